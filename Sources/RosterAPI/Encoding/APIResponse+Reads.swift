import HTTP
import Raft
import Registry
import RosterNode

extension APIResponse {
    /// A read's answer, stamped with the revision it reflects and, when served without confirming
    /// leadership, how long ago this node last heard from a leader.
    static func encodeRead(
        _ result: QueryResult, readContext: ReadContext, context: ResponseContext, cache: inout InstanceJSONCache
    ) -> EncodedResponse {
        var writer: JSONWriter
        if case .instances(let list) = result {
            writer = JSONWriter(reservingCapacity: 64 + list.records.count * 320)
        } else {
            writer = JSONWriter()
        }
        writer.beginObject()
        writer.field("revision", readContext.revision.rawValue)
        switch result {
        case .range(let range):
            writeRange(range, into: &writer)
        case .instances(let list):
            writer.key("instances")
            writer.beginArray()
            for record in list.records { writer.instance(record, cache: &cache) }
            writer.endArray()
        case .instance(let record):
            guard let record else {
                let error = APIError(
                    status: .notFound, code: "instance_not_found",
                    message: "no live instance with this name; it may have expired or been deregistered")
                var response = encodeError(error, context: context)
                stamp(&response, readContext)
                return response
            }
            writer.key("instance")
            writer.instance(record, cache: &cache)
        case .services(let list):
            writer.key("services")
            writer.beginArray()
            for service in list.services {
                writer.beginObject()
                writer.field("name", service.name)
                writer.field("instances", service.instanceCount)
                writer.endObject()
            }
            writer.endArray()
        case .lease(let status):
            writer.key("lease")
            writer.leaseStatus(status)
        case .leases(let statuses):
            writer.key("leases")
            writer.beginArray()
            for status in statuses { writer.leaseStatus(status) }
            writer.endArray()
        case .hash(let hash):
            writer.field("hash_revision", hash.revision.rawValue)
            writer.field("compacted_revision", hash.compactedRevision.rawValue)
            writer.field("hash", hex(hash.hash))
        }
        writer.endObject()
        var response = ok(writer, context: context)
        stamp(&response, readContext)
        return response
    }

    /// Sets the read's revision and, for serializable reads, the leader-contact age.
    static func stamp(_ response: inout EncodedResponse, _ readContext: ReadContext) {
        if let position = response.headers.firstIndex(where: { $0.name == "X-Roster-Revision" }) {
            response.headers[position].value = String(readContext.revision.rawValue)
        }
        if readContext.consistency == .serializable {
            // "-1" when this node never heard from a leader: the read may be arbitrarily stale.
            let age = readContext.leaderContactAgeMilliseconds.map { String($0) } ?? "-1"
            response.headers.append(("X-Roster-Leader-Contact-Ms", age))
        }
    }

    /// An administration result: the configuration now in force, or the transfer that started (202).
    static func encodeAdmin(_ result: AdminResult, context: ResponseContext) -> EncodedResponse {
        var writer = JSONWriter()
        writer.beginObject()
        switch result {
        case .membershipChanged(let configuration):
            writeConfiguration(configuration, into: &writer)
            writer.endObject()
            return ok(writer, context: context)
        case .transferStarted(let target):
            writer.field("transfer_to", nodeID(target))
            writer.endObject()
            return ok(writer, context: context, status: HTTPStatus(code: 202, reason: "Accepted"))
        }
    }

    static func writeConfiguration(_ configuration: Configuration, into writer: inout JSONWriter) {
        writer.key("voters")
        writer.beginArray()
        for id in configuration.voters { writer.string(nodeID(id)) }
        writer.endArray()
        writer.key("learners")
        writer.beginArray()
        for id in configuration.learners { writer.string(nodeID(id)) }
        writer.endArray()
    }

    /// Node IDs are FNV hashes of names, mostly above 2^53, so JSON carries them as 16 hex digits
    /// (JavaScript numbers would round them).
    static func nodeID(_ id: NodeID) -> String { hex(id.rawValue) }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
