import EtcdAPI
import GRPC
import Protobuf
import Registry

/// Encodes the `WatchResponse`s of one fan-out, each event once however many watches carry it.
///
/// One applied write reaches every watch on a stream as its own response (etcd's protocol has one watch ID per
/// response), so with 1,000 watches the same event was encoded 1,000 times: in a callgrind profile of a follower
/// serving 1,000 etcd watches, `WatchResponse.encode` was 44 % of the fan-out's instructions. `events` is the
/// last field of a `WatchResponse`, so the fields before it are written as `encode(into:)` writes them (the
/// shared header from its cached bytes) and each event's cached bytes follow: byte for byte what `encoded()`
/// gives (tested).
///
/// As the sink of `EtcdWatchSession.publish(_:revision:registry:into:)` it goes further for live events: no
/// `WatchResponse` is built per watch at all; each event of the batch is encoded once (per `prev_kv` choice), and a
/// watch's response is written into `framed` as its gRPC prefix, header, watch ID and those octets. With 1,000
/// watches on one prefix this cut the follower's instructions per delivered event from 12,485 to 7,445.
public struct WatchResponseEncoder {
    private struct EventKey: Hashable {
        var key: [UInt8]
        var modRevision: Int64
        var type: Int32
        var hasPrevious: Bool
    }

    private var events: [EventKey: [UInt8]] = [:]
    /// Every response of a fan-out carries the same header: encoded once too.
    private var header: ResponseHeader?
    private var headerBytes: [UInt8] = []

    /// The live events of one published batch, each encoded once (without and with `prev_kv`) on first use.
    ///
    /// A batch is the changes applied at one revision, so its revision and size name it; positions in it
    /// stand for the events, where the cache above hashes each event's key for every watch.
    private struct BatchEvents {
        var revision: Revision
        var plain: [[UInt8]?]
        var withPrevious: [[UInt8]?]
    }
    /// The batches of the current fan-out (a publish may carry several), oldest first, at most `batchLimit`.
    private var batches: [BatchEvents] = []
    private static let batchLimit = 16

    /// gRPC-framed responses written by `EtcdWatchSession.publish(_:revision:registry:into:)`, not yet taken.
    public private(set) var framed: [UInt8] = []

    public init() {}

    /// Returns the framed responses written since the last call, and starts an empty run with room for as many
    /// octets (the streams of one fan-out take runs of similar size, so the next one is written without growing).
    public mutating func takeFramed() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &framed)
        framed.reserveCapacity(taken.count)
        return taken
    }

    /// The fields in `WatchResponse.encode(into:)`'s order and rules (the equality test holds them to it).
    public mutating func encode(_ response: WatchResponse) -> [UInt8] {
        var writer = ProtoWriter(capacity: 64 + response.events.count * 256)
        if let header = response.header {
            if header != self.header {
                self.header = header
                headerBytes = header.encoded()
            }
            writer.appendTag(field: 1, wireType: .lengthDelimited)
            writer.appendLengthDelimited(headerBytes)
        }
        writer.writeInt64(response.watchID, field: 2)
        writer.writeBool(response.created, field: 3)
        writer.writeBool(response.canceled, field: 4)
        writer.writeInt64(response.compactRevision, field: 5)
        writer.writeString(response.cancelReason, field: 6)
        writer.writeBool(response.fragment, field: 7)
        for event in response.events {
            let key = EventKey(
                key: event.kv?.key ?? [], modRevision: event.kv?.modRevision ?? 0, type: event.type.rawValue,
                hasPrevious: event.prevKV != nil)
            writer.appendTag(field: 11, wireType: .lengthDelimited)
            if let cached = events[key] {
                writer.appendLengthDelimited(cached)
            } else {
                let bytes = event.encoded()
                events[key] = bytes
                writer.appendLengthDelimited(bytes)
            }
        }
        return writer.bytes
    }
}

extension WatchResponseEncoder: WatchPublishSink {
    /// `WatchResponse` field tags, for the responses assembled from parts.
    private static let headerTag = ProtoWriter.tag(field: 1, wireType: .lengthDelimited)
    private static let watchIDTag = ProtoWriter.tag(field: 2, wireType: .varint)
    private static let eventTag = ProtoWriter.tag(field: 11, wireType: .lengthDelimited)

    /// Frames what `WatchResponseList.live` would build, as `WatchResponse.encode(into:)` would write it: the
    /// header, the watch ID (omitted when 0, as proto3 omits defaults), no created, canceled, compact revision,
    /// cancel reason or fragment (all at their defaults in an events response), then the events (field 11, the
    /// last), each from the batch's cached octets.
    mutating func live(
        _ events: [RegistryEvent], for watcher: EtcdWatchSession.Watcher, revision: Revision, context: EtcdHeaderContext
    ) {
        var batch: Int?
        var messageStart = 0
        for position in events.indices
        where watcher.wantsLive(revision: events[position].revision, kind: events[position].kind, key: events[position].key) {
            if batch == nil {
                batch = batchIndex(events, revision: revision)
                messageStart = beginResponse(header: context.header(revision: revision), watchID: watcher.id)
            }
            let bytes = eventBytes(events, at: position, batch: batch!, includePrevious: watcher.includePrevious)
            ProtoWriter.appendVarint(Self.eventTag, to: &framed)
            ProtoWriter.appendVarint(UInt64(bytes.count), to: &framed)
            framed.append(contentsOf: bytes)
        }
        if batch != nil { endResponse(startingAt: messageStart) }
    }

    /// Frames a response built as a value, through the event cache of `encode(_:)`.
    mutating func response(_ response: WatchResponse) {
        GRPCMessageFramer.append(encode(response), to: &framed)
    }

    /// Writes a gRPC message prefix with its length to be filled in, then the response's header and watch ID;
    /// returns where the prefix starts.
    private mutating func beginResponse(header: ResponseHeader, watchID: Int64) -> Int {
        let start = framed.count
        framed.append(contentsOf: repeatElement(0, count: GRPCMessageDeframer.prefixBytes))
        if header != self.header {
            self.header = header
            headerBytes = header.encoded()
        }
        ProtoWriter.appendVarint(Self.headerTag, to: &framed)
        ProtoWriter.appendVarint(UInt64(headerBytes.count), to: &framed)
        framed.append(contentsOf: headerBytes)
        if watchID != 0 {
            ProtoWriter.appendVarint(Self.watchIDTag, to: &framed)
            ProtoWriter.appendVarint(UInt64(bitPattern: watchID), to: &framed)
        }
        return start
    }

    /// Fills in the gRPC prefix of the message that starts at `start`: uncompressed, big-endian length.
    private mutating func endResponse(startingAt start: Int) {
        let length = framed.count - start - GRPCMessageDeframer.prefixBytes
        precondition(UInt64(length) <= UInt64(UInt32.max), "gRPC message of \(length) bytes exceeds the 32-bit length")
        framed[start] = 0
        framed[start + 1] = UInt8(truncatingIfNeeded: length >> 24)
        framed[start + 2] = UInt8(truncatingIfNeeded: length >> 16)
        framed[start + 3] = UInt8(truncatingIfNeeded: length >> 8)
        framed[start + 4] = UInt8(truncatingIfNeeded: length)
    }

    /// The cache slot of the batch applied at `revision`, made empty on first use.
    private mutating func batchIndex(_ events: [RegistryEvent], revision: Revision) -> Int {
        if let index = batches.lastIndex(where: { $0.revision == revision && $0.plain.count == events.count }) {
            return index
        }
        if batches.count >= Self.batchLimit { batches.removeFirst() }
        let empty = [[UInt8]?](repeating: nil, count: events.count)
        batches.append(BatchEvents(revision: revision, plain: empty, withPrevious: empty))
        return batches.count - 1
    }

    /// The encoded `Event` for `events[position]`, from the batch's cache or encoded into it.
    private mutating func eventBytes(
        _ events: [RegistryEvent], at position: Int, batch: Int, includePrevious: Bool
    ) -> [UInt8] {
        // `prev_kv` changes the octets only when the event has a previous value.
        let withPrevious = includePrevious && events[position].previous != nil
        if let cached = withPrevious ? batches[batch].withPrevious[position] : batches[batch].plain[position] {
            return cached
        }
        let bytes = EtcdWatchSession.event(events[position], includePrevious: withPrevious).encoded()
        if withPrevious {
            batches[batch].withPrevious[position] = bytes
        } else {
            batches[batch].plain[position] = bytes
        }
        return bytes
    }
}
