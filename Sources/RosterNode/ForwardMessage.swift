import Codec
import Raft
import Registry
import Wire

/// Node-to-node traffic that is not Raft: a follower hands client work to the leader.
///
/// A follower forwards a write as the encoded `RegistryCommand`; the leader proposes it and answers
/// with where it landed `(index, term)`. The follower then answers its client only once it has
/// applied that entry itself, so a client reading back from the same node sees its write.
public enum ForwardMessage: Hashable, Sendable {
    /// `command` is a `RegistryCommand` encoding: its first byte is the command format version, never
    /// `registrationMarker` (a propose whose command started with it would decode as a `registerWithLease`).
    case propose(request: UInt64, command: [UInt8])
    case proposed(request: UInt64, outcome: ForwardOutcome)
    case keepAlive(request: UInt64, lease: LeaseID)
    case keptAlive(request: UInt64, ttlMilliseconds: Int64?, failure: String?)
    /// A membership request a follower hands to the leader; answered with `proposed`, whose index the
    /// follower then waits to apply, as for a write.
    case admin(request: UInt64, admin: AdminRequest)
    /// A registration with a lease that a follower hands to the leader whole: the leader appends the lease grant
    /// and answers `grantAccepted` with its index, then registers the instance under the lease as soon as the
    /// grant applies there and answers `accepted` with the registration's index. The follower answers its client
    /// once it applied the registration, or the grant if that did not apply.
    ///
    /// Why: forwarded as two writes, the second left the follower only once the grant had committed, reached it
    /// in a commit notice and applied there, so a registration through a follower paid the forwarding hop and
    /// the commit notice twice; through the leader it paid neither.
    ///
    /// `register` is the encoded `registerInstance` command (auth-checked if auth is on) whose lease the leader
    /// fills in. On the wire it is a `propose` whose command starts with `registrationMarker`, a byte no command
    /// format version takes: a leader of an earlier version answers it `malformed`, keeps the connection, and
    /// the follower registers in two writes instead (`NodeDriver.legacyLeader`).
    case registerWithLease(request: UInt64, ttlMilliseconds: Int64, register: [UInt8])

    /// The first byte of a `registerWithLease`'s command field, where a `propose` has the command's format version.
    static let registrationMarker: UInt8 = 0xF1
}

public enum ForwardOutcome: Hashable, Sendable {
    case accepted(index: LogIndex, term: Term)
    case notLeader(leader: NodeID?)
    case refused(reason: String)
    /// The command bytes did not decode: a version mismatch or corruption.
    case malformed(reason: String)
    /// The leader refused a forwarded membership request.
    case adminRefused(AdminRefusal)
    /// The lease grant of a registration handed over whole is appended at `(index, term)`. If it applies, the
    /// registration's own `accepted` follows; if not, that entry is the answer. Only sent to a follower that sent
    /// a `registerWithLease`, so a member of an earlier version never receives it.
    case grantAccepted(index: LogIndex, term: Term)
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
            case .grantAccepted(let index, let term):
                writer.write(UInt8(5))
                writer.writeVarint(index.rawValue)
                writer.writeVarint(term.rawValue)
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
        case .registerWithLease(let request, let ttl, let register):
            writer.write(Tag.propose.rawValue)
            writer.writeVarint(request)
            var field = ByteWriter(reservingCapacity: register.count + 12)
            field.write(Self.registrationMarker)
            field.writeSignedVarint(ttl)
            field.writeRaw(register)
            writer.writeLengthPrefixed(field.bytes)
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
            let command = try reader.readLengthPrefixed("command", limit: maxCommandBytes)
            if command.first == Self.registrationMarker {
                var field = ByteReader(command)
                _ = try field.readByte("registration marker")
                let ttl = try field.readSignedVarint("ttl")
                message = .registerWithLease(request: request, ttlMilliseconds: ttl, register: Array(command[field.offset...]))
            } else {
                message = .propose(request: request, command: command)
            }
        case .proposed:
            let request = try reader.readVarint("request")
            let outcome: ForwardOutcome
            switch try reader.readByte("outcome") {
            case 0: outcome = .accepted(index: try reader.readLogIndex("index"), term: try reader.readTerm("term"))
            case 1:
                let raw = try reader.readVarint("leader")
                outcome = .notLeader(leader: raw == 0 ? nil : NodeID(rawValue: raw))
            case 2: outcome = .refused(reason: try reader.readString("reason", limit: 4_096))
            case 3: outcome = .malformed(reason: try reader.readString("reason", limit: 4_096))
            case 4: outcome = .adminRefused(try AdminRefusal(from: &reader))
            case 5: outcome = .grantAccepted(index: try reader.readLogIndex("index"), term: try reader.readTerm("term"))
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
