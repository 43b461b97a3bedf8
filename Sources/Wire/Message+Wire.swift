import Codec
import Raft

// Binary layout of a Raft `Message`, the payload of a `PeerFrame` of kind `.raft`:
//
//   varint from, varint to, varint term, u8 body tag, body fields
//   0 preVote            varint lastLogIndex, varint lastLogTerm
//   1 preVoteResponse    bool granted
//   2 vote               varint lastLogIndex, varint lastLogTerm, bool isLeadershipTransfer
//   3 voteResponse       bool granted
//   4 append             varint prevLogIndex, varint prevLogTerm, varint commit, varint count, entries
//   5 appendResponse     u8 0 accepted + varint match | 1 rejected + 3 varints | 2 needsSnapshot
//   6 heartbeat          varint commit, varint readRound
//   7 heartbeatResponse  varint readRound
//   8 snapshotChunk      snapshot metadata, varint total, varint offset, length-prefixed data
//   9 snapshotResponse   varint snapshotIndex, varint nextOffset, bool isComplete
//  10 timeoutNow
//  11 readIndex          varint requestID
//  12 readIndexResponse  varint requestID, bool hasIndex, [varint index]

/// Bounds on a decoded message beyond those of `RaftDecodingLimits`.
public struct MessageDecodingLimits: Hashable, Sendable {
    public var raft: RaftDecodingLimits
    public var entriesPerAppend: Int
    public var snapshotChunkBytes: Int

    public init(raft: RaftDecodingLimits = .standard, entriesPerAppend: Int = 4_096, snapshotChunkBytes: Int = 4 << 20) {
        self.raft = raft
        self.entriesPerAppend = entriesPerAppend
        self.snapshotChunkBytes = snapshotChunkBytes
    }

    public static let standard = MessageDecodingLimits()
}

private enum BodyTag: UInt8 {
    case preVote, preVoteResponse, vote, voteResponse, append, appendResponse, heartbeat, heartbeatResponse
    case snapshotChunk, snapshotResponse, timeoutNow, readIndex, readIndexResponse
}

extension ByteWriter {
    public mutating func write(_ message: Message) {
        writeVarint(message.from.rawValue)
        writeVarint(message.to.rawValue)
        writeVarint(message.term.rawValue)
        switch message.body {
        case .preVote(let lastIndex, let lastTerm):
            write(BodyTag.preVote.rawValue)
            writeVarint(lastIndex.rawValue)
            writeVarint(lastTerm.rawValue)
        case .preVoteResponse(let granted):
            write(BodyTag.preVoteResponse.rawValue)
            write(granted)
        case .vote(let lastIndex, let lastTerm, let isTransfer):
            write(BodyTag.vote.rawValue)
            writeVarint(lastIndex.rawValue)
            writeVarint(lastTerm.rawValue)
            write(isTransfer)
        case .voteResponse(let granted):
            write(BodyTag.voteResponse.rawValue)
            write(granted)
        case .append(let append):
            write(BodyTag.append.rawValue)
            writeVarint(append.prevLogIndex.rawValue)
            writeVarint(append.prevLogTerm.rawValue)
            writeVarint(append.commit.rawValue)
            writeVarint(UInt64(append.entries.count))
            for entry in append.entries { write(entry) }
        case .appendResponse(let response):
            write(BodyTag.appendResponse.rawValue)
            switch response {
            case .accepted(let match):
                write(UInt8(0))
                writeVarint(match.rawValue)
            case .rejected(let rejected, let hintIndex, let hintTerm):
                write(UInt8(1))
                writeVarint(rejected.rawValue)
                writeVarint(hintIndex.rawValue)
                writeVarint(hintTerm.rawValue)
            case .needsSnapshot:
                write(UInt8(2))
            }
        case .heartbeat(let commit, let round):
            write(BodyTag.heartbeat.rawValue)
            writeVarint(commit.rawValue)
            writeVarint(round)
        case .heartbeatResponse(let round):
            write(BodyTag.heartbeatResponse.rawValue)
            writeVarint(round)
        case .snapshotChunk(let chunk):
            write(BodyTag.snapshotChunk.rawValue)
            write(chunk.metadata)
            writeVarint(chunk.totalBytes)
            writeVarint(chunk.offset)
            writeLengthPrefixed(chunk.data)
        case .snapshotResponse(let response):
            write(BodyTag.snapshotResponse.rawValue)
            writeVarint(response.snapshotIndex.rawValue)
            writeVarint(response.nextOffset)
            write(response.isComplete)
        case .timeoutNow:
            write(BodyTag.timeoutNow.rawValue)
        case .readIndex(let requestID):
            write(BodyTag.readIndex.rawValue)
            writeVarint(requestID)
        case .readIndexResponse(let requestID, let index):
            write(BodyTag.readIndexResponse.rawValue)
            writeVarint(requestID)
            write(index != nil)
            if let index { writeVarint(index.rawValue) }
        }
    }
}

extension ByteReader {
    public mutating func readMessage(limits: MessageDecodingLimits = .standard) throws(CodecError) -> Message {
        let from = try readMemberID("message.from")
        let to = try readMemberID("message.to")
        let term = try readTerm("message.term")
        let rawTag = try readByte("message.kind")
        guard let tag = BodyTag(rawValue: rawTag) else { throw .unknownTag(field: "message.kind", tag: UInt64(rawTag)) }
        let body: MessageBody
        switch tag {
        case .preVote:
            body = .preVote(lastLogIndex: try readLogIndex("lastLogIndex"), lastLogTerm: try readTerm("lastLogTerm"))
        case .preVoteResponse:
            body = .preVoteResponse(granted: try readBool("granted"))
        case .vote:
            let index = try readLogIndex("lastLogIndex")
            let lastTerm = try readTerm("lastLogTerm")
            body = .vote(lastLogIndex: index, lastLogTerm: lastTerm, isLeadershipTransfer: try readBool("isLeadershipTransfer"))
        case .voteResponse:
            body = .voteResponse(granted: try readBool("granted"))
        case .append:
            body = .append(try readAppend(limits: limits))
        case .appendResponse:
            body = .appendResponse(try readAppendResponse())
        case .heartbeat:
            body = .heartbeat(commit: try readLogIndex("commit"), readRound: try readVarint("readRound"))
        case .heartbeatResponse:
            body = .heartbeatResponse(readRound: try readVarint("readRound"))
        case .snapshotChunk:
            let metadata = try readSnapshotMetadata(limits: limits.raft)
            let total = try readVarint("snapshot.totalBytes")
            let offset = try readVarint("snapshot.offset")
            let data = try readLengthPrefixed("snapshot.data", limit: limits.snapshotChunkBytes)
            guard offset <= total, UInt64(data.count) <= total - offset else {
                throw .invalidValue(field: "snapshot.offset", reason: "chunk [\(offset)+\(data.count)] beyond total \(total)")
            }
            body = .snapshotChunk(SnapshotChunk(metadata: metadata, totalBytes: total, offset: offset, data: data))
        case .snapshotResponse:
            let index = try readLogIndex("snapshotIndex")
            let next = try readVarint("nextOffset")
            body = .snapshotResponse(SnapshotResponse(snapshotIndex: index, nextOffset: next, isComplete: try readBool("isComplete")))
        case .timeoutNow:
            body = .timeoutNow
        case .readIndex:
            body = .readIndex(requestID: try readVarint("requestID"))
        case .readIndexResponse:
            let requestID = try readVarint("requestID")
            let index = try readBool("hasIndex") ? try readLogIndex("index") : nil
            body = .readIndexResponse(requestID: requestID, index: index)
        }
        return Message(from: from, to: to, term: term, body: body)
    }

    private mutating func readAppend(limits: MessageDecodingLimits) throws(CodecError) -> AppendEntries {
        let prevIndex = try readLogIndex("prevLogIndex")
        let prevTerm = try readTerm("prevLogTerm")
        let commit = try readLogIndex("commit")
        let count = try readCount("entries", limit: limits.entriesPerAppend)
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var expected = prevIndex.next
        var lastTerm = prevTerm
        for _ in 0..<count {
            let entry = try readEntry(limits: limits.raft)
            // The core assumes contiguous entries with non-decreasing terms; a peer must not break that.
            guard entry.index == expected, entry.term >= lastTerm else {
                throw .invalidValue(field: "entries", reason: "entry \(entry.index)@\(entry.term) after \(expected.rawValue - 1)@\(lastTerm)")
            }
            expected = expected.next
            lastTerm = entry.term
            entries.append(entry)
        }
        return AppendEntries(prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: entries, commit: commit)
    }

    private mutating func readAppendResponse() throws(CodecError) -> AppendResponse {
        switch try readByte("appendResponse.kind") {
        case 0:
            return .accepted(matchIndex: try readLogIndex("matchIndex"))
        case 1:
            let rejected = try readLogIndex("rejectedIndex")
            let hintIndex = try readLogIndex("hintIndex")
            return .rejected(rejectedIndex: rejected, hintIndex: hintIndex, hintTerm: try readTerm("hintTerm"))
        case 2:
            return .needsSnapshot
        case let other:
            throw .unknownTag(field: "appendResponse.kind", tag: UInt64(other))
        }
    }

    mutating func readMemberID(_ field: String) throws(CodecError) -> NodeID {
        let raw = try readVarint(field)
        guard raw != 0 else { throw .invalidValue(field: field, reason: "node ID 0 is reserved") }
        return NodeID(rawValue: raw)
    }
}
