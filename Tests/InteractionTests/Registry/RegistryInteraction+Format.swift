// Goal: one readable spelling of every registry value a transcript prints. Method: commands and responses
// in a few words, events as `r3 delete prod/api/a (lease-expired)`, key text as UTF-8.
import Registry

extension RegistryInteraction {
    func format(_ command: RegistryCommand) -> String {
        switch command {
        case .put(let request):
            return "put \(text(request.key))=\(text(request.value))" + (request.lease.map { " lease:\($0.rawValue)" } ?? "")
        case .deleteRange(let request):
            return "delete \(request.range)"
        case .grantLease(let id, let ttl, _):
            return "grant lease \(id.map { "\($0.rawValue)" } ?? "?") ttl:\(ttl)"
        case .revokeLease(let id):
            return "revoke lease \(id.rawValue)"
        case .checkpointLeases(let checkpoints):
            return "checkpoint " + checkpoints.map { "lease \($0.id.rawValue) remaining:\($0.remainingMilliseconds)" }.joined(separator: ", ")
        case .elapseLeases(let milliseconds):
            return "elapse leases \(milliseconds) ms"
        case .expireLeases(let ids):
            return "expire lease\(ids.count == 1 ? "" : "s") " + ids.map { "\($0.rawValue)" }.joined(separator: " ")
        case .registerInstance(let instance):
            return "register \(text(instance.name.key))" + (instance.lease.map { " lease:\($0.rawValue)" } ?? "")
                + " incarnation:\(instance.incarnation)"
        case .deregisterInstance(let name, let incarnation):
            return "deregister \(text(name.key))" + (incarnation.map { " incarnation:\($0)" } ?? "")
        case .compact(let revision):
            return "compact \(revision)"
        case .auth(let command):
            return "auth \(command)"
        case .transaction(let request):
            return format(request)
        case .updateInstance:
            return "\(command)"
        case .authChecked(let authRevision, let command):
            return format(command) + " (checked at auth revision \(authRevision))"
        }
    }

    func format(_ response: CommandResponse) -> String {
        switch response {
        case .put: "stored"
        case .deleteRange(let deleted, _): "deleted \(deleted) key\(deleted == 1 ? "" : "s")"
        case .transaction(let succeeded, let responses): format(transactionResponse: succeeded, responses)
        case .leaseGranted(let id, let ttl): "lease \(id.rawValue) granted, ttl \(ttl) ms"
        case .leaseRevoked(let id, let deleted): "lease \(id.rawValue) revoked, \(deleted) key\(deleted == 1 ? "" : "s") deleted"
        case .leasesCheckpointed(let count): "\(count) lease\(count == 1 ? "" : "s") checkpointed"
        case .leasesExpired(let ids, let deleted):
            ids.isEmpty
                ? "no lease expired"
                : "lease\(ids.count == 1 ? "" : "s") \(ids.map { "\($0.rawValue)" }.joined(separator: " ")) expired, "
                    + "\(deleted) key\(deleted == 1 ? "" : "s") deleted"
        case .instanceRegistered(_, let previous): previous == nil ? "registered" : "re-registered"
        case .instanceUpdated: "updated"
        case .instanceDeregistered: "deregistered"
        case .compacted(let revision): "history compacted through \(revision)"
        case .authChanged(let authRevision): "auth revision \(authRevision)"
        }
    }

    func format(_ event: RegistryEvent) -> String {
        let kind = event.kind == .put ? "put" : "delete"
        var line = "\(event.revision) \(kind) \(text(event.key))"
        if let current = event.current, !current.isInstance { line += "=\(text(current.value))" }
        line += " (\(name(of: event.cause)))"
        if let current = event.current {
            line += " version:\(current.version)" + (current.lease.map { " lease:\($0.rawValue)" } ?? "")
        }
        return line
    }

    func format(_ record: KeyValue) -> String {
        var line = text(record.key)
        if !record.isInstance { line += "=\(text(record.value))" }
        line += " created:\(record.createRevision) modified:\(record.modRevision) version:\(record.version)"
        if let lease = record.lease { line += " lease:\(lease.rawValue)" }
        return line
    }

    func name(of cause: RegistryEvent.Cause) -> String {
        switch cause {
        case .put: "put"
        case .delete: "delete"
        case .registered: "registered"
        case .updated: "updated"
        case .deregistered: "deregistered"
        case .leaseExpired: "lease-expired"
        case .leaseRevoked: "lease-revoked"
        }
    }

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
