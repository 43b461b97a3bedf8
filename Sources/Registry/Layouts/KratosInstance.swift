/// go-kratos' `registry.ServiceInstance` as its etcd registry stores it: `json.Marshal` of
/// `{ID "id", Name "name", Version "version", Metadata "metadata", Endpoints "endpoints"}` under
/// `<namespace>/<name>/<id>`.
///
/// Mapping: `id`, `name` (= service), `version`, `metadata` and `endpoints` one to one. Kratos has no weight,
/// status or incarnation: an instance read from kratos JSON gets weight 100 and status `up`, and rendering drops
/// them.
enum KratosInstance {
    /// The instance described by a kratos document at `<prefix>/<service>/<id>`; nil when a field has the wrong
    /// type or `name`/`id` disagree with the key (kratos' own discovery skips such entries).
    static func instance(_ object: LayoutJSONObject, namespace: String, service: String, id: String) -> ServiceInstance? {
        guard let documentID = object.string("id"), documentID == id,
            let name = object.string("name"), name == service,
            let version = object.string("version"),
            let metadata = object.stringMap("metadata"),
            let endpoints = object.stringArray("endpoints")
        else { return nil }
        return ServiceInstance(
            namespace: namespace, service: service, id: id, version: version, endpoints: endpoints, metadata: metadata)
    }

    /// The document kratos would write for `instance` (fields in its struct order, metadata in key order).
    static func json(of instance: ServiceInstance) -> [UInt8] {
        var writer = LayoutJSONWriter()
        writer.raw("{")
        writer.member("id", first: true) { $0.string(instance.id) }
        writer.member("name") { $0.string(instance.service) }
        writer.member("version") { $0.string(instance.version) }
        writer.member("metadata") { $0.stringMap(instance.metadata) }
        writer.member("endpoints") { $0.stringArray(instance.endpoints) }
        writer.raw("}")
        return writer.bytes
    }
}
