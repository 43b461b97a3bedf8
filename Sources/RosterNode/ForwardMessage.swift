import Codec
import Raft
import Registry

/// Node-to-node traffic that is not Raft: a follower hands client work to the leader.
///
/// A follower forwards a write as the encoded `RegistryCommand`; the leader proposes it and answers
/// with where it landed `(index, term)`. The follower then answers its client only once it has
/// applied that entry itself, so a client reading back from the same node sees its write.
public enum ForwardMessage: Hashable, Sendable {
    case propose(request: UInt64, command: [UInt8])
    case proposed(request: UInt64, outcome: ForwardOutcome)
    case keepAlive(request: UInt64, lease: LeaseID)
    case keptAlive(request: UInt64, ttlMilliseconds: Int64?, failure: String?)
    /// A membership request a follower hands to the leader; answered with `proposed`, whose index the
    /// follower then waits to apply, as for a write.
    case admin(request: UInt64, admin: AdminRequest)
}

public enum ForwardOutcome: Hashable, Sendable {
    case accepted(index: LogIndex, term: Term)
    case notLeader(leader: NodeID?)
    case refused(reason: String)
    /// The command bytes did not decode: a version mismatch or corruption.
    case malformed(reason: String)
    /// The leader refused a forwarded membership request.
    case adminRefused(AdminRefusal)
}

extension ForwardMessage {
    private enum Tag: UInt8 { case propose = 1, proposed, keepAlive, keptAlive, admin }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .propose(let request, let command):
            writer.write(Tag.propose.rawValue)
            writer.writeVarint(request)
            writer.writeLengthPrefixed(command)
        case .proposed(let request, let outcome):
            writer.write(Tag.proposed.rawValue)
            writer.writeVarint(request)
            switch outcome {
            case .accepted(let index, let term):
                writer.write(UInt8(0))
                writer.writeVarint(index.rawValue)
                writer.writeVarint(term.rawValue)
            case .notLeader(let leader):
                writer.write(UInt8(1))
                writer.writeVarint(leader?.rawValue ?? 0)
            case .refused(let reason):
                writer.write(UInt8(2))
                writer.writeString(reason)
            case .malformed(let reason):
                writer.write(UInt8(3))
                writer.writeString(reason)
            case .adminRefused(let refusal):
                writer.write(UInt8(4))
                refusal.encode(into: &writer)
            }
        case .keepAlive(let request, let lease):
            writer.write(Tag.keepAlive.rawValue)
            writer.writeVarint(request)
            writer.writeVarint(lease.rawValue)
        case .keptAlive(let request, let ttl, let failure):
            writer.write(Tag.keptAlive.rawValue)
            writer.writeVarint(request)
            writer.write(ttl != nil)
            writer.writeSignedVarint(ttl ?? 0)
            writer.writeString(failure ?? "")
        case .admin(let request, let admin):
            writer.write(Tag.admin.rawValue)
            writer.writeVarint(request)
            admin.encode(into: &writer)
        }
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8], maxCommandBytes: Int) throws(CodecError) -> ForwardMessage {
        var reader = ByteReader(bytes)
        let rawTag = try reader.readByte("forward.kind")
        let message: ForwardMessage
        switch Tag(rawValue: rawTag) {
        case .propose:
            let request = try reader.readVarint("request")
            message = .propose(request: request, command: try reader.readLengthPrefixed("command", limit: maxCommandBytes))
        case .proposed:
            let request = try reader.readVarint("request")
            let outcome: ForwardOutcome
            switch try reader.readByte("outcome") {
            case 0: outcome = .accepted(index: LogIndex(try reader.readVarint("index")), term: Term(try reader.readVarint("term")))
            case 1:
                let raw = try reader.readVarint("leader")
                outcome = .notLeader(leader: raw == 0 ? nil : NodeID(rawValue: raw))
            case 2: outcome = .refused(reason: try reader.readString("reason", limit: 4_096))
            case 3: outcome = .malformed(reason: try reader.readString("reason", limit: 4_096))
            case 4: outcome = .adminRefused(try AdminRefusal(from: &reader))
            case let other: throw .unknownTag(field: "outcome", tag: UInt64(other))
            }
            message = .proposed(request: request, outcome: outcome)
        case .keepAlive:
            let request = try reader.readVarint("request")
            message = .keepAlive(request: request, lease: LeaseID(try reader.readVarint("lease")))
        case .keptAlive:
            let request = try reader.readVarint("request")
            let hasTTL = try reader.readBool("hasTTL")
            let ttl = try reader.readSignedVarint("ttl")
            let failure = try reader.readString("failure", limit: 4_096)
            message = .keptAlive(request: request, ttlMilliseconds: hasTTL ? ttl : nil, failure: failure.isEmpty ? nil : failure)
        case .admin:
            let request = try reader.readVarint("request")
            message = .admin(request: request, admin: try AdminRequest(from: &reader))
        case nil:
            throw .unknownTag(field: "forward.kind", tag: UInt64(rawTag))
        }
        try reader.expectEnd()
        return message
    }
}
