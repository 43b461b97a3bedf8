import Codec
import Registry

/// How registry values appear in responses.
///
/// Bytes (keys and values) are written as a JSON string when they are valid UTF-8, which covers every
/// key this API can create and most values, and otherwise as base64 under the same name plus `_base64`
/// (`"value_base64": "AAE="`), so a client never has to guess which encoding a string uses. A record that
/// holds an instance (`KeyValue.isInstance`) shows the instance as an object under `instance` instead of
/// its internal binary encoding. Lease IDs and incarnations are JSON integers; note that JavaScript
/// clients lose precision above 2^53.
extension JSONWriter {
    /// Writes `name` (UTF-8) or `name_base64` (anything else) for `bytes`.
    mutating func bytesField(_ name: String, _ value: [UInt8]) {
        if let text = UTF8Text.string(value) {
            field(name, text)
        } else {
            key("\(name)_base64")
            base64(value)
        }
    }

    /// An instance as an object, metadata keys in byte order.
    mutating func instance(_ instance: ServiceInstance) {
        beginObject()
        field(static: "namespace", instance.namespace)
        field(static: "service", instance.service)
        field(static: "id", instance.id)
        field(static: "version", instance.version)
        key(static: "endpoints")
        beginArray()
        for endpoint in instance.endpoints { string(endpoint) }
        endArray()
        key(static: "metadata")
        beginObject()
        if instance.metadata.count == 1, let entry = instance.metadata.first {
            field(entry.key, entry.value)
        } else {
            for entry in instance.metadata.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                field(entry.key, entry.value)
            }
        }
        endObject()
        field(static: "weight", instance.weight)
        field(static: "status", instance.status.name)
        key(static: "lease")
        if let lease = instance.lease { integer(lease.rawValue) } else { null() }
        field(static: "incarnation", instance.incarnation)
        endObject()
    }

    /// A record's value: `instance` for instance records, else `value`/`value_base64` (`prefix` names
    /// the previous value of an event: `prev_instance`, `prev_value`).
    mutating func recordValue(_ record: KeyValue, prefix: String = "") {
        if let instance = record.instance {
            key(prefix.isEmpty ? "instance" : "\(prefix)instance")
            self.instance(instance)
        } else {
            bytesField(prefix.isEmpty ? "value" : "\(prefix)value", record.value)
        }
    }

    /// A key with its bookkeeping, etcd's `KeyValue`.
    mutating func keyValue(_ record: KeyValue) {
        beginObject()
        bytesField("key", record.key)
        recordValue(record)
        field("create_revision", record.createRevision.rawValue)
        field("mod_revision", record.modRevision.rawValue)
        field("version", record.version)
        key("lease")
        if let lease = record.lease { integer(lease.rawValue) } else { null() }
        endObject()
    }

    mutating func keyValues(_ records: [KeyValue]) {
        beginArray()
        for record in records { keyValue(record) }
        endArray()
    }

    /// A lease's status.
    mutating func leaseStatus(_ status: LeaseStatus) {
        beginObject()
        field("id", status.id.rawValue)
        field("granted_ttl_ms", status.grantedTTLMilliseconds)
        field("remaining_ttl_ms", status.remainingTTLMilliseconds)
        // Non-UTF-8 keys go to a separate list, so no array mixes two encodings.
        let texts = status.keys.compactMap { UTF8Text.string($0) }
        key("keys")
        beginArray()
        for text in texts { string(text) }
        endArray()
        if texts.count < status.keys.count {
            key("keys_base64")
            beginArray()
            for key in status.keys where UTF8Text.string(key) == nil { base64(key) }
            endArray()
        }
        endObject()
    }
}

extension InstanceStatus {
    /// The name used in JSON.
    var name: String {
        switch self {
        case .up: "up"
        case .draining: "draining"
        }
    }
}

extension RegistryEvent.Cause {
    /// The name used in JSON.
    var name: String {
        switch self {
        case .put: "put"
        case .delete: "delete"
        case .registered: "registered"
        case .updated: "updated"
        case .deregistered: "deregistered"
        case .leaseExpired: "lease_expired"
        case .leaseRevoked: "lease_revoked"
        }
    }
}
