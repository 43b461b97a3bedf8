import Codec

/// One unit on a peer connection: a fixed header naming the protocol, the cluster and the sender,
/// then a checksummed payload.
///
///   4 bytes  magic "RSTR"
///   u8       protocol version (1)
///   u8       kind
///   u64      cluster ID
///   u64      sender member ID
///   u32      payload length
///   u32      CRC-32C of the payload
///   payload
///
/// Every frame carries the cluster and sender so that a member of another cluster, a removed member,
/// or bytes that are not Roster's are refused at the first frame, before any payload is decoded.
public struct PeerFrame: Hashable, Sendable {
    public static let magic: [UInt8] = Array("RSTR".utf8)
    public static let version: UInt8 = 1
    public static let headerBytes = 4 + 1 + 1 + 8 + 8 + 4 + 4

    public enum Kind: UInt8, Hashable, Sendable {
        /// A Raft `Message`.
        case raft = 1
        /// Node-to-node application traffic (forwarded proposals and their results, keepalives); its
        /// payload format belongs to the node.
        case forward = 2
        /// The first frame on every outbound connection, with an empty payload. It names the sender at once,
        /// so the receiver learns that the peer is up (and redials it without waiting out its reconnect
        /// backoff) and keeps the connection past its handshake timeout even when nothing else is due: a
        /// follower never sends to another follower, and a restarted one has nothing to say to its leader
        /// until the leader reaches it.
        case hello = 3
    }

    public var kind: Kind
    public var clusterID: UInt64
    public var senderID: UInt64
    public var payload: [UInt8]

    public init(kind: Kind, clusterID: UInt64, senderID: UInt64, payload: [UInt8]) {
        self.kind = kind
        self.clusterID = clusterID
        self.senderID = senderID
        self.payload = payload
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: Self.headerBytes + payload.count)
        writer.writeRaw(Self.magic)
        writer.write(Self.version)
        writer.write(kind.rawValue)
        writer.writeFixed(clusterID)
        writer.writeFixed(senderID)
        writer.writeFixed(UInt32(payload.count))
        writer.writeFixed(CRC32C.checksum(payload))
        writer.writeRaw(payload)
        return writer.bytes
    }
}

/// Why a peer's bytes were refused; the connection is closed and the reason logged.
public enum PeerFrameError: Error, Hashable, Sendable {
    case badMagic([UInt8])
    case unsupportedVersion(UInt8)
    case unknownKind(UInt8)
    case wrongCluster(expected: UInt64, received: UInt64)
    case frameTooLarge(length: UInt32, limit: Int)
    case checksumMismatch(expected: UInt32, actual: UInt32)
}

/// Cuts a byte stream into frames, incrementally: feed any split of the stream, take whole frames.
///
/// The header is validated as soon as it is complete, and the payload length is bounded before any
/// payload byte is buffered.
public struct PeerFrameDecoder: Sendable {
    public let clusterID: UInt64
    public let maxPayloadBytes: Int
    private var buffer: [UInt8] = []
    private var consumed = 0

    public init(clusterID: UInt64, maxPayloadBytes: Int) {
        self.clusterID = clusterID
        self.maxPayloadBytes = maxPayloadBytes
    }

    public mutating func feed(_ bytes: some Collection<UInt8>) {
        if consumed > 0 && consumed >= buffer.count / 2 {
            buffer.removeFirst(consumed)
            consumed = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil if more bytes are needed.
    public mutating func next() throws(PeerFrameError) -> PeerFrame? {
        let available = buffer.count - consumed
        guard available >= PeerFrame.headerBytes else {
            try checkPartialHeader()
            return nil
        }
        var reader = ByteReader(buffer, range: consumed..<buffer.count)
        do {
            let magic = Array(try reader.readRaw(4, field: "magic"))
            guard magic == PeerFrame.magic else { throw PeerFrameError.badMagic(magic) }
            let version = try reader.readByte()
            guard version == PeerFrame.version else { throw PeerFrameError.unsupportedVersion(version) }
            let rawKind = try reader.readByte()
            guard let kind = PeerFrame.Kind(rawValue: rawKind) else { throw PeerFrameError.unknownKind(rawKind) }
            let cluster = try reader.readFixed64()
            guard cluster == clusterID else { throw PeerFrameError.wrongCluster(expected: clusterID, received: cluster) }
            let sender = try reader.readFixed64()
            let length = try reader.readFixed32()
            guard length <= maxPayloadBytes else { throw PeerFrameError.frameTooLarge(length: length, limit: maxPayloadBytes) }
            let checksum = try reader.readFixed32()
            guard reader.remaining >= Int(length) else { return nil }
            let payload = Array(try reader.readRaw(Int(length), field: "payload"))
            let actual = CRC32C.checksum(payload)
            guard actual == checksum else { throw PeerFrameError.checksumMismatch(expected: checksum, actual: actual) }
            consumed = reader.offset
            return PeerFrame(kind: kind, clusterID: cluster, senderID: sender, payload: payload)
        } catch let error as PeerFrameError {
            throw error
        } catch {
            preconditionFailure("header bounds were checked: \(error)")
        }
    }

    /// Rejects garbage early: a partial header whose magic already differs.
    private func checkPartialHeader() throws(PeerFrameError) {
        let prefix = Array(buffer[consumed..<min(buffer.count, consumed + 4)])
        guard prefix == Array(PeerFrame.magic.prefix(prefix.count)) else { throw .badMagic(prefix) }
    }
}
