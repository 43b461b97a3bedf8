import HTTP
import Registry

/// `GET /v1/sd/prometheus`: instances as Prometheus HTTP service discovery target groups (`http_sd_configs`).
///
/// One group per instance: its endpoints' `host:port` as targets, and its attributes as `__meta_roster_*`
/// labels, which relabelling can keep (`__meta_` labels are dropped after relabelling unless copied). The
/// answer carries an `ETag` over its bytes, and `If-None-Match` with the same tag gets `304 Not Modified`, so
/// Prometheus' periodic refresh costs no body when nothing changed.
public enum PrometheusTargets {
    /// 304, for a refresh whose `If-None-Match` names the current answer.
    public static let notModified = HTTPStatus(code: 304, reason: "Not Modified")

    /// The target groups of `instances`, or 304 when `ifNoneMatch` is their ETag.
    public static func encode(_ instances: [ServiceInstance], ifNoneMatch: String?, context: ResponseContext) -> EncodedResponse {
        var writer = JSONWriter(reservingCapacity: 256 * max(instances.count, 1))
        writer.beginArray()
        let ordered = instances.sorted { ($0.service, $0.id) < ($1.service, $1.id) }
        for instance in ordered {
            let targets = instance.endpoints.compactMap(hostPort)
            guard !targets.isEmpty else { continue }
            writer.beginObject()
            writer.key("targets")
            writer.beginArray()
            for target in targets { writer.string(target) }
            writer.endArray()
            writer.key("labels")
            writer.beginObject()
            for (name, value) in labels(instance) { writer.field(name, value) }
            writer.endObject()
            writer.endObject()
        }
        writer.endArray()
        let body = writer.bytes
        let tag = etag(body)
        var headers = context.headers()
        headers.append(("ETag", tag))
        headers.append(("Cache-Control", "no-cache"))
        if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: { $0.trimmingCharacters(in: " \t") == tag }) {
            return EncodedResponse(status: notModified, headers: headers, body: [])
        }
        return EncodedResponse(status: .ok, headers: headers, body: body)
    }

    /// `host:port` of an endpoint URL (`grpc://10.0.0.5:9000/x` → `10.0.0.5:9000`); nil without a port.
    static func hostPort(_ endpoint: String) -> String? {
        let bytes = Array(endpoint.utf8)
        guard let separator = (0..<max(0, bytes.count - 2)).first(where: {
            bytes[$0] == 0x3A && bytes[$0 + 1] == 0x2F && bytes[$0 + 2] == 0x2F
        }) else { return nil }
        var authority = Substring(String(decoding: bytes[(separator + 3)...], as: UTF8.self))
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { authority = authority[..<end] }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard let colon = authority.lastIndex(of: ":"), !authority[authority.index(after: colon)...].isEmpty,
            authority.last != "]"
        else { return nil }
        return String(authority)
    }

    /// The labels of one instance, in a fixed order; metadata keys become `__meta_roster_metadata_<key>`
    /// with every character outside `[a-zA-Z0-9_]` replaced by `_`, as Prometheus label names require.
    static func labels(_ instance: ServiceInstance) -> [(String, String)] {
        var labels = [
            ("__meta_roster_namespace", instance.namespace), ("__meta_roster_service", instance.service),
            ("__meta_roster_instance", instance.id), ("__meta_roster_version", instance.version),
            ("__meta_roster_status", instance.status.name), ("__meta_roster_weight", String(instance.weight)),
        ]
        for key in instance.metadata.keys.sorted() {
            labels.append(("__meta_roster_metadata_" + labelName(key), instance.metadata[key] ?? ""))
        }
        return labels
    }

    static func labelName(_ key: String) -> String {
        String(key.unicodeScalars.map { scalar -> Character in
            let isAllowed = scalar.isASCII && (scalar == "_" || (scalar.value >= 0x30 && scalar.value <= 0x39)
                || ((scalar.value | 0x20) >= 0x61 && (scalar.value | 0x20) <= 0x7A))
            return isAllowed ? Character(scalar) : "_"
        })
    }

    /// A strong validator over the body: FNV-1a 64 in hex, quoted.
    static func etag(_ body: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in body { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return "\"" + String(hash, radix: 16) + "\""
    }
}
