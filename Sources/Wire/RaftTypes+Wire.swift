import Codec
import Raft

// Binary layout of the Raft types that are persisted and replicated. These functions know nothing
// of framing (no length, type or checksum around a value) so that the write-ahead log and the peer
// protocol can both wrap them in their own envelopes.
//
//   Entry            varint term, varint index, payload
//   EntryPayload     u8 tag: 0 noop | 1 command + length-prefixed bytes | 2 membership change
//   MembershipChange u8 tag: 0 addLearner | 1 promoteLearner | 2 remove, then varint node ID (never 0)
//   HardState        varint term, varint vote (0 = no vote), varint commit
//   Configuration    varint voter count, voter IDs ascending; varint learner count, learner IDs ascending
//   SnapshotMetadata varint index, varint term, configuration

/// Bounds on what a decoder accepts, checked before anything is allocated, so a forged length in a
/// file or from a peer costs an error rather than the process's memory (CVE-2020-15106 in etcd).
public struct RaftDecodingLimits: Hashable, Sendable {
    /// Largest command payload, in bytes.
    public var commandBytes: Int
    /// Largest number of voters, and separately of learners, in a configuration.
    public var members: Int

    public init(commandBytes: Int = 4 << 20, members: Int = 1024) {
        self.commandBytes = commandBytes
        self.members = members
    }

    public static let standard = RaftDecodingLimits()
}

private enum PayloadTag: UInt8 {
    case noop = 0
    case command = 1
    case membership = 2
}

private enum ChangeTag: UInt8 {
    case addLearner = 0
    case promoteLearner = 1
    case remove = 2
}

// MARK: - Encoding

extension ByteWriter {
    /// Appends an entry: term, index, then its payload.
    public mutating func write(_ entry: Entry) {
        writeVarint(entry.term.rawValue)
        writeVarint(entry.index.rawValue)
        switch entry.payload {
        case .noop:
            write(PayloadTag.noop.rawValue)
        case .command(let bytes):
            write(PayloadTag.command.rawValue)
            writeLengthPrefixed(bytes)
        case .membership(let change):
            write(PayloadTag.membership.rawValue)
            write(change)
        }
    }

    /// Appends a membership change: its kind, then the node it concerns.
    public mutating func write(_ change: MembershipChange) {
        switch change {
        case .addLearner(let node):
            write(ChangeTag.addLearner.rawValue)
            writeVarint(node.rawValue)
        case .promoteLearner(let node):
            write(ChangeTag.promoteLearner.rawValue)
            writeVarint(node.rawValue)
        case .remove(let node):
            write(ChangeTag.remove.rawValue)
            writeVarint(node.rawValue)
        }
    }

    /// Appends a hard state: term, vote (0 for none), commit.
    public mutating func write(_ hardState: HardState) {
        writeVarint(hardState.term.rawValue)
        // NodeID 0 is reserved, so 0 can stand for "no vote" without a separate flag byte.
        writeVarint(hardState.vote?.rawValue ?? 0)
        writeVarint(hardState.commit.rawValue)
    }

    /// Appends a configuration: voters then learners, each counted and in ascending order.
    public mutating func write(_ configuration: Configuration) {
        writeVarint(UInt64(configuration.voters.count))
        for voter in configuration.voters { writeVarint(voter.rawValue) }
        writeVarint(UInt64(configuration.learners.count))
        for learner in configuration.learners { writeVarint(learner.rawValue) }
    }

    /// Appends snapshot metadata: index, term, configuration.
    public mutating func write(_ metadata: SnapshotMetadata) {
        writeVarint(metadata.index.rawValue)
        writeVarint(metadata.term.rawValue)
        write(metadata.configuration)
    }
}

// MARK: - Decoding

extension ByteReader {
    /// Reads a log index, refusing one above `LogIndex.largestDecodable`.
    public mutating func readLogIndex(_ field: String) throws(CodecError) -> LogIndex {
        LogIndex(try readVarint(field, atMost: LogIndex.largestDecodable.rawValue, naming: "index"))
    }

    /// Reads a term, refusing one above `Term.largestDecodable`.
    public mutating func readTerm(_ field: String) throws(CodecError) -> Term {
        Term(try readVarint(field, atMost: Term.largestDecodable.rawValue, naming: "term"))
    }

    private mutating func readVarint(_ field: String, atMost bound: UInt64, naming what: String) throws(CodecError) -> UInt64 {
        let raw = try readVarint(field)
        guard raw <= bound else { throw .invalidValue(field: field, reason: "\(what) \(raw) is above \(bound) (2^62)") }
        return raw
    }

    /// Reads one `Entry`, refusing a command longer than `limits.commandBytes` before copying it.
    public mutating func readEntry(limits: RaftDecodingLimits = .standard) throws(CodecError) -> Entry {
        let term = try readTerm("entry.term")
        let index = try readLogIndex("entry.index")
        let tag = try readByte("entry.payload")
        let payload: EntryPayload
        switch PayloadTag(rawValue: tag) {
        case .noop: payload = .noop
        case .command: payload = .command(try readLengthPrefixed("entry.command", limit: limits.commandBytes))
        case .membership: payload = .membership(try readMembershipChange())
        case nil: throw .unknownTag(field: "entry.payload", tag: UInt64(tag))
        }
        return Entry(term: term, index: index, payload: payload)
    }

    /// Reads a membership change; a node ID of 0 or an unknown kind throws.
    public mutating func readMembershipChange() throws(CodecError) -> MembershipChange {
        let tag = try readByte("membership.kind")
        guard let kind = ChangeTag(rawValue: tag) else { throw .unknownTag(field: "membership.kind", tag: UInt64(tag)) }
        let node = try readNodeID("membership.node")
        switch kind {
        case .addLearner: return .addLearner(node)
        case .promoteLearner: return .promoteLearner(node)
        case .remove: return .remove(node)
        }
    }

    /// Reads a hard state written by `write(_: HardState)`.
    public mutating func readHardState() throws(CodecError) -> HardState {
        let term = try readTerm("hardState.term")
        let vote = try readVarint("hardState.vote")
        let commit = try readLogIndex("hardState.commit")
        return HardState(term: term, vote: vote == 0 ? nil : NodeID(rawValue: vote), commit: commit)
    }

    /// Reads a configuration; IDs must be non-zero, strictly ascending and voters and learners
    /// disjoint, so that exactly one byte sequence encodes each configuration.
    public mutating func readConfiguration(limits: RaftDecodingLimits = .standard) throws(CodecError) -> Configuration {
        let voters = try readNodeIDs("configuration.voters", limit: limits.members)
        let learners = try readNodeIDs("configuration.learners", limit: limits.members)
        guard Set(voters).isDisjoint(with: learners) else {
            throw .invalidValue(field: "configuration.learners", reason: "a node is both voter and learner")
        }
        return Configuration(voters: voters, learners: learners)
    }

    /// Reads snapshot metadata written by `write(_: SnapshotMetadata)`.
    public mutating func readSnapshotMetadata(limits: RaftDecodingLimits = .standard) throws(CodecError)
        -> SnapshotMetadata
    {
        let index = try readLogIndex("snapshot.index")
        let term = try readTerm("snapshot.term")
        let configuration = try readConfiguration(limits: limits)
        return SnapshotMetadata(index: index, term: term, configuration: configuration)
    }

    private mutating func readNodeID(_ field: String) throws(CodecError) -> NodeID {
        let raw = try readVarint(field)
        // `NodeID.init(_:)` traps on 0; bytes from disk or a peer must cost an error instead.
        guard raw != 0 else { throw .invalidValue(field: field, reason: "node ID 0 is reserved") }
        return NodeID(rawValue: raw)
    }

    private mutating func readNodeIDs(_ field: String, limit: Int) throws(CodecError) -> [NodeID] {
        let count = try readCount(field, limit: limit)
        var nodes: [NodeID] = []
        nodes.reserveCapacity(count)
        for _ in 0..<count {
            let node = try readNodeID(field)
            if let last = nodes.last, node <= last {
                throw .invalidValue(field: field, reason: "IDs not strictly ascending (\(last) then \(node))")
            }
            nodes.append(node)
        }
        return nodes
    }
}
