import HPACK

/// The server side of one HTTP/2 connection (RFC 9113) as a value-type state machine, with no I/O.
///
/// The shell (the epoll loop) drives it:
/// 1. every octet read from the socket goes to `receive(_:)`, which returns events for the application;
/// 2. the application answers with `sendHeaders`, `sendData`, `sendTrailers`, `resetStream`, ...;
/// 3. whenever the socket is writable and `hasOutbound` is true, the shell writes `takeOutbound()`;
/// 4. once `isFinished` is true and the last outbound octets are written, the shell closes the socket.
///
/// Response bodies are framed lazily in `takeOutbound`, not when queued: octets the socket cannot take stay in
/// per-stream queues where `queuedBytes(on:)` sees them, so a slow reader is visible and bounded. The shell MUST
/// therefore call `takeOutbound` only when it has room to write (its own unwritten buffer is small); pulling
/// eagerly would move the backlog out of sight into the shell.
///
/// Receive-side flow control policy: windows are replenished as data is *delivered* to the application (a
/// WINDOW_UPDATE once half a window was delivered), not as it is consumed. Backpressure toward a fast sender
/// is the shell's: it stops reading the socket.
public struct HTTP2Connection: Sendable {
    /// Where the connection is in its life.
    enum Phase: Sendable, Equatable {
        /// Waiting for the 24-octet client preface; `matched` octets so far were correct.
        case awaitingPreface(matched: Int)
        /// Preface seen; the next frame must be the client's SETTINGS (RFC 9113 §3.4).
        case awaitingSettings
        /// Normal operation.
        case active
        /// A connection error was sent in GOAWAY; input is ignored.
        case failed
    }

    /// A header block whose CONTINUATION frames are still arriving.
    struct PendingHeaderBlock: Sendable {
        var stream: StreamID
        var block: [UInt8]
        var endStream: Bool
        var priority: PriorityInfo?
        var continuations: Int
    }

    /// The bounds this connection enforces and advertises.
    public let limits: HTTP2Limits
    var phase: Phase = .awaitingPreface(matched: 0)
    var frameDecoder: FrameDecoder
    var headerDecoder: HPACKDecoder
    var headerEncoder: HPACKEncoder
    var peerSettings = PeerSettings()

    /// Open and half-closed streams by id.
    var streams = StreamTable<StreamState>()
    /// Streams with queued items, in round-robin order.
    var sendOrder: [StreamID] = []
    /// The highest client stream id seen; ids at or below it that are not in `streams` are closed.
    var highestStream = StreamID.connection
    /// Streams we reset or refused lately, whose in-flight frames are ignored rather than punished.
    var recentlyReset: [StreamID] = []
    /// Streams that completed normally lately, so a late HEADERS on one is STREAM_CLOSED rather than a reused id.
    var recentlyClosed: [StreamID] = []
    var pendingHeaderBlock: PendingHeaderBlock?

    /// Frames written but not yet taken by the shell.
    var outbound: [UInt8] = []
    /// The length of `outbound`'s leading run of PING acknowledgements (all of it when nothing else was written).
    var pingAcknowledgementBytes = 0
    var connectionSendWindow = HTTP2Constants.defaultWindowSize
    var connectionReceiveWindow: Int
    var connectionReceivedSinceUpdate = 0
    /// Body octets queued over all streams.
    public internal(set) var queuedBytes = 0

    var resetBudget: Int
    var emptyDataFrames = 0
    /// The last stream id announced in our graceful GOAWAY, if one was sent.
    var goAwayLastStream: StreamID?
    /// True once the client sent GOAWAY.
    var peerSentGoAway = false

    /// Creates the connection and writes our SETTINGS and connection WINDOW_UPDATE (the server preface), which
    /// the first `takeOutbound()` returns.
    public init(limits: HTTP2Limits = HTTP2Limits()) {
        limits.check()
        self.limits = limits
        frameDecoder = FrameDecoder(maxFrameSize: limits.maxFrameSize)
        headerDecoder = HPACKDecoder(maxTableSize: limits.headerTableSize, maxHeaderListSize: limits.maxHeaderListSize,
                                     maxStringLength: limits.maxHeaderListSize)
        headerEncoder = HPACKEncoder(tableSizeCeiling: limits.encoderTableSizeCeiling)
        connectionReceiveWindow = limits.connectionWindowSize
        resetBudget = limits.streamResetBudget
        var parameters = [
            SettingsParameter(.maxConcurrentStreams, UInt32(limits.maxConcurrentStreams)),
            SettingsParameter(.initialWindowSize, UInt32(limits.initialStreamWindowSize)),
            SettingsParameter(.maxFrameSize, UInt32(limits.maxFrameSize)),
            SettingsParameter(.maxHeaderListSize, UInt32(limits.maxHeaderListSize)),
        ]
        if limits.headerTableSize != 4096 {
            parameters.append(SettingsParameter(.headerTableSize, UInt32(limits.headerTableSize)))
        }
        write(.settings(ack: false, parameters: parameters))
        let increment = limits.connectionWindowSize - HTTP2Constants.defaultWindowSize
        if increment > 0 { write(.windowUpdate(stream: .connection, increment: UInt32(increment))) }
    }

    // MARK: - Input

    /// Feeds octets in any collection (tests, fuzzers); see `receive(_:)` on a buffer, which this copies into.
    public mutating func receive<Bytes: Collection>(_ bytes: Bytes) -> [HTTP2Event] where Bytes.Element == UInt8 {
        Array(bytes).withUnsafeBytes { receive($0) }
    }

    /// Feeds octets read from the socket, in any chunking, and returns what the application must act on.
    ///
    /// Takes a concrete buffer, not a generic collection: called from another module, a generic body runs
    /// unspecialized, looking up type metadata and witnesses for every slice and byte.
    /// - Complexity: O(octets + frames); each frame's work is bounded by the limits.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) -> [HTTP2Event] {
        var events: [HTTP2Event] = []
        guard phase != .failed else { return events }
        var input = bytes[...]
        if case .awaitingPreface(let matched) = phase {
            let preface = HTTP2Constants.clientPreface
            let count = min(preface.count - matched, input.count)
            let received = input.prefix(count)
            guard received.elementsEqual(preface[matched..<(matched + count)]) else {
                fail(.connection(.protocolError, "the connection did not start with the HTTP/2 client preface; "
                                 + "is the client speaking HTTP/1.1 or TLS to a cleartext HTTP/2 port?"), &events)
                return events
            }
            input = input.dropFirst(count)
            phase = matched + count == preface.count ? .awaitingSettings : .awaitingPreface(matched: matched + count)
            if case .awaitingPreface = phase { return events }
        }
        frameDecoder.append(input)
        while phase != .failed {
            do throws(HTTP2Error) {
                guard let frame = try frameDecoder.nextFrame() else { break }
                try handle(frame, &events)
                if outbound.count > limits.maxPendingControlBytes {
                    throw .connection(.enhanceYourCalm, "\(outbound.count) octets of replies are unread; the client "
                                      + "sends frames without reading the connection")
                }
            } catch {
                handleError(error, &events)
            }
        }
        return events
    }

    /// Sends RST_STREAM for a stream error (charging the reset budget), or fails the connection.
    mutating func handleError(_ error: HTTP2Error, _ events: inout [HTTP2Event]) {
        guard let stream = error.stream else {
            fail(error, &events)
            return
        }
        let wasKnown = closeStream(stream, sending: error.code)
        if wasKnown { events.append(.streamAborted(stream, error)) }
        do throws(HTTP2Error) {
            try chargeResetBudget("stream errors")
        } catch {
            fail(error, &events)
        }
    }

    /// Ends the connection: GOAWAY with the error, all queues dropped, further input ignored.
    mutating func fail(_ error: HTTP2Error, _ events: inout [HTTP2Event]) {
        guard phase != .failed else { return }
        phase = .failed
        streams.removeAll()
        sendOrder.removeAll()
        queuedBytes = 0
        pendingHeaderBlock = nil
        write(.goAway(lastStream: highestStream, code: error.code, debugData: Array(error.message.utf8.prefix(256))))
        events.append(.connectionFailed(error))
    }

    /// Spends one unit of the reset budget (see `HTTP2Limits.streamResetBudget`).
    mutating func chargeResetBudget(_ what: String) throws(HTTP2Error) {
        resetBudget -= 1
        guard resetBudget >= 0 else {
            throw .connection(.enhanceYourCalm, "too many reset or refused streams (\(what)) compared with streams "
                              + "completed normally; limit \(limits.streamResetBudget)")
        }
    }

    // MARK: - Queries

    /// Body octets queued on `stream` and not yet written (0 for unknown streams).
    public func queuedBytes(on stream: StreamID) -> Int { streams[stream]?.queuedBytes ?? 0 }

    /// The number of open and half-closed streams.
    public var activeStreamCount: Int { streams.count }

    /// True when `takeOutbound()` would return octets now.
    public var hasOutbound: Bool {
        !outbound.isEmpty || sendOrder.contains { canWrite($0) }
    }

    /// True when all there is to send is PING acknowledgements. A shell that expects to answer a request soon may
    /// hold them a moment to leave in the same write: gRPC-Go's clients ping with nearly every request (to
    /// estimate the bandwidth-delay product), and each lone acknowledgement costs both sides a write, a read and a
    /// wake-up. RFC 9113 §6.7 asks for priority over other frames, which they keep: they lead the next write.
    public var outboundIsOnlyPingAcknowledgements: Bool {
        !outbound.isEmpty && outbound.count == pingAcknowledgementBytes && !sendOrder.contains { canWrite($0) }
    }

    /// True when the shell should close the socket once it has written everything `takeOutbound()` returns:
    /// after a connection error, or after a GOAWAY (ours or the client's) once every stream has finished.
    public var isFinished: Bool {
        phase == .failed || ((goAwayLastStream != nil || peerSentGoAway) && streams.isEmpty)
    }

    // MARK: - Helpers

    /// Appends a frame to the outbound octets.
    mutating func write(_ frame: Frame) {
        frame.encode(into: &outbound)
    }

    /// Removes a stream, sending RST_STREAM with `code` if given, and remembers it as recently reset.
    /// - Returns: true if the stream was open (the application knew it).
    @discardableResult
    mutating func closeStream(_ stream: StreamID, sending code: HTTP2ErrorCode?) -> Bool {
        if let code { write(.rstStream(stream: stream, code: code)) }
        rememberReset(stream)
        guard let state = streams.removeValue(forKey: stream) else { return false }
        queuedBytes -= state.queuedBytes
        sendOrder.removeAll { $0 == stream }
        return true
    }

    mutating func rememberReset(_ stream: StreamID) {
        Self.remember(stream, in: &recentlyReset, limit: limits.recentlyClosedStreams)
    }

    /// Appends to a bounded FIFO of stream ids.
    static func remember(_ stream: StreamID, in list: inout [StreamID], limit: Int) {
        guard limit > 0, !list.contains(stream) else { return }
        if list.count >= limit { list.removeFirst() }
        list.append(stream)
    }

    /// Removes a stream whose both sides ended and whose queue is empty; a normal completion earns back one unit
    /// of the reset budget.
    mutating func removeIfFinished(_ stream: StreamID) {
        guard let state = streams[stream], state.isFinished else { return }
        streams.removeValue(forKey: stream)
        sendOrder.removeAll { $0 == stream }
        Self.remember(stream, in: &recentlyClosed, limit: limits.recentlyClosedStreams)
        resetBudget = min(resetBudget + 1, limits.streamResetBudget)
    }
}
