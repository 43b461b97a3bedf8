import HPACK

extension HTTP2Connection {
    // MARK: - Application calls

    /// Queues response headers (`:status` first); with `endStream` this is a complete header-only response,
    /// such as gRPC's trailers-only reply.
    /// - Throws: `HTTP2SendError` if the stream is not open, or headers were already sent or the stream ended.
    public mutating func sendHeaders(_ fields: [HeaderField], on stream: StreamID,
                                     endStream: Bool = false) throws(HTTP2SendError) {
        guard try !openStream(stream).headersQueued else { throw .headersAlreadySent(stream) }
        streams[stream]!.headersQueued = true
        streams[stream]!.localEndQueued = endStream
        enqueue(.headers(fields, endStream: endStream), on: stream)
    }

    /// Queues a trailers-only response (RFC 9113 §8.1, gRPC's "Trailers-Only"): one HEADERS with END_STREAM.
    public mutating func sendTrailersOnly(_ fields: [HeaderField], on stream: StreamID) throws(HTTP2SendError) {
        try sendHeaders(fields, on: stream, endStream: true)
    }

    /// Queues body octets; they leave in DATA frames as windows allow, fairly shared with other streams.
    /// - Throws: `.queueFull` when the stream's or the connection's queue limit would be passed; nothing is
    ///   queued then, and a stream that keeps failing this way has a slow reader worth resetting.
    public mutating func sendData(_ bytes: [UInt8], on stream: StreamID,
                                  endStream: Bool = false) throws(HTTP2SendError) {
        // The checks read a copy that ends with this block: a copy alive while the item is appended would share
        // the queue's storage and make every append copy the whole queue (quadratic under a watch fan-out).
        do {
            let state = try openStream(stream)
            guard state.headersQueued else { throw .headersNotSent(stream) }
            guard state.queuedBytes + bytes.count <= limits.maxQueuedBytesPerStream else {
                throw .queueFull(stream, queued: state.queuedBytes, adding: bytes.count,
                                 limit: limits.maxQueuedBytesPerStream)
            }
        }
        guard queuedBytes + bytes.count <= limits.maxQueuedBytesPerConnection else {
            throw .queueFull(stream, queued: queuedBytes, adding: bytes.count,
                             limit: limits.maxQueuedBytesPerConnection)
        }
        streams[stream]!.queuedBytes += bytes.count
        streams[stream]!.localEndQueued = endStream
        queuedBytes += bytes.count
        enqueue(.data(bytes, offset: 0, endStream: endStream), on: stream)
    }

    /// Queues trailers (gRPC's `grpc-status`), ending the stream after any queued data.
    public mutating func sendTrailers(_ fields: [HeaderField], on stream: StreamID) throws(HTTP2SendError) {
        guard try openStream(stream).headersQueued else { throw .headersNotSent(stream) }
        streams[stream]!.localEndQueued = true
        enqueue(.headers(fields, endStream: true), on: stream)
    }

    /// Resets a stream now (RST_STREAM with `code`), dropping anything queued on it. Unknown streams are ignored,
    /// since the client may have reset it first.
    public mutating func resetStream(_ stream: StreamID, code: HTTP2ErrorCode = .cancel) {
        guard phase != .failed, streams.contains(stream) else { return }
        closeStream(stream, sending: code)
    }

    /// Starts a graceful shutdown: GOAWAY(NO_ERROR) naming the last stream we will process; later streams are
    /// ignored, existing ones finish, and `isFinished` turns true once they have.
    public mutating func beginGracefulShutdown() {
        guard phase != .failed, goAwayLastStream == nil else { return }
        goAwayLastStream = highestStream
        write(.goAway(lastStream: highestStream, code: .noError, debugData: []))
    }

    /// The octets to write to the socket now: pending frames, then DATA frames scheduled round-robin over
    /// streams within the client's windows, until about `maxBytes` (a frame may cross it).
    /// - Complexity: O(octets returned + streams with queued data).
    public mutating func takeOutbound(maxBytes: Int = 64 << 10) -> [UInt8] {
        var output: [UInt8] = []
        swap(&output, &outbound)
        pingAcknowledgementBytes = 0
        if !sendOrder.isEmpty {
            // One allocation for the body octets about to be framed, rather than growing frame by frame; the slack
            // covers frame headers and a few trailers.
            let bodyEstimate = max(0, min(queuedBytes, maxBytes, connectionSendWindow))
            output.reserveCapacity(output.count + bodyEstimate + Self.outboundSlack)
        }
        var blockedInARow = 0
        while output.count < maxBytes, !sendOrder.isEmpty, blockedInARow < sendOrder.count {
            let stream = sendOrder.removeFirst()
            switch writeNextItem(of: stream, into: &output) {
            case .wrote(let hasMore):
                blockedInARow = 0
                if hasMore { sendOrder.append(stream) }
            case .blocked:
                blockedInARow += 1
                sendOrder.append(stream)
            case .drained:
                continue
            }
            removeIfFinished(stream)
        }
        return output
    }

    // MARK: - Queueing and framing

    /// Octets reserved up front for frames other than DATA bodies: a HEADERS block or trailers and a few frame headers.
    static let outboundSlack = 256

    /// The state of a stream the application may still send on.
    private func openStream(_ stream: StreamID) throws(HTTP2SendError) -> StreamState {
        guard phase != .failed else { throw .connectionClosed }
        guard let state = streams[stream] else { throw .unknownStream(stream) }
        guard !state.localEndQueued else { throw .streamEnded(stream) }
        return state
    }

    /// Headers with nothing queued ahead of them go out at once; everything else waits its turn.
    private mutating func enqueue(_ item: OutboundItem, on stream: StreamID) {
        if case .headers(let fields, let endStream) = item, streams[stream]?.queue.isEmpty == true {
            writeHeaderBlock(fields, on: stream, endStream: endStream)
            if endStream { streams[stream]?.localEndWritten = true }
            removeIfFinished(stream)
            return
        }
        if streams[stream]?.queue.isEmpty == true { sendOrder.append(stream) }
        streams[stream]?.enqueue(item)
    }

    /// True when the stream's next item could be written now.
    func canWrite(_ stream: StreamID) -> Bool {
        guard let state = streams[stream], let item = state.queue.first else { return false }
        guard case .data(let bytes, let offset, _) = item, offset < bytes.count else { return true }
        return state.sendWindow > 0 && connectionSendWindow > 0
    }

    enum WriteOutcome {
        case wrote(hasMore: Bool)
        case blocked
        case drained
    }

    /// Writes one frame's worth of the stream's oldest item, within the windows and the client's frame size.
    private mutating func writeNextItem(of stream: StreamID, into output: inout [UInt8]) -> WriteOutcome {
        // Out of the table while it changes, so its queue has one owner and `removeFirst` never copies it.
        guard var state = streams.removeValue(forKey: stream) else { return .drained }
        defer { streams[stream] = state }
        guard let item = state.queue.first else { return .drained }
        switch item {
        case .headers(let fields, let endStream):
            swap(&output, &outbound)
            writeHeaderBlock(fields, on: stream, endStream: endStream)
            swap(&output, &outbound)
            state.queue.removeFirst()
            state.localEndWritten = state.localEndWritten || endStream
        case .data(let bytes, let offset, let endStream):
            let remaining = bytes.count - offset
            // Windows can be negative after a SETTINGS change; an empty END_STREAM frame still needs no window.
            let allowed = max(0, min(remaining, state.sendWindow, connectionSendWindow, peerSettings.maxFrameSize))
            guard remaining == 0 || allowed > 0 else { return .blocked }
            let isLast = allowed == remaining
            writeDataFrame(stream, bytes[offset..<(offset + allowed)], endStream: isLast && endStream, into: &output)
            state.sendWindow -= allowed
            connectionSendWindow -= allowed
            state.queuedBytes -= allowed
            queuedBytes -= allowed
            if isLast {
                state.queue.removeFirst()
                state.localEndWritten = state.localEndWritten || endStream
            } else {
                state.queue[0] = .data(bytes, offset: offset + allowed, endStream: endStream)
            }
        }
        return .wrote(hasMore: !state.queue.isEmpty)
    }

    /// Appends one DATA frame without copying the body twice.
    private func writeDataFrame(_ stream: StreamID, _ body: ArraySlice<UInt8>, endStream: Bool,
                                into output: inout [UInt8]) {
        FrameHeader(length: body.count, type: FrameType.data, flags: endStream ? FrameFlags.endStream : 0,
                    stream: stream).encode(into: &output)
        output.append(contentsOf: body)
    }

    /// HPACK-encodes `fields` and writes HEADERS plus as many CONTINUATIONs as the client's frame size needs.
    ///
    /// The block is encoded straight into the outbound octets behind a HEADERS frame header whose length and
    /// flags are filled in afterwards, so the usual block (one frame) is never copied; a block too big for one
    /// frame is taken back out and split.
    mutating func writeHeaderBlock(_ fields: [HeaderField], on stream: StreamID, endStream: Bool) {
        // An emptied outbound buffer has no storage; room for the usual answer's frames avoids growing it step by step.
        if outbound.capacity == 0 { outbound.reserveCapacity(Self.outboundSlack) }
        let headerStart = outbound.count
        FrameHeader(length: 0, type: FrameType.headers, flags: 0, stream: stream).encode(into: &outbound)
        headerEncoder.encode(fields, into: &outbound)
        let blockLength = outbound.count - headerStart - FrameHeader.size
        let frameSize = peerSettings.maxFrameSize
        if blockLength <= frameSize {
            outbound[headerStart] = UInt8(truncatingIfNeeded: blockLength >> 16)
            outbound[headerStart + 1] = UInt8(truncatingIfNeeded: blockLength >> 8)
            outbound[headerStart + 2] = UInt8(truncatingIfNeeded: blockLength)
            outbound[headerStart + 4] = FrameFlags.endHeaders | (endStream ? FrameFlags.endStream : 0)
            return
        }
        let block = Array(outbound[(headerStart + FrameHeader.size)...])
        outbound.removeSubrange(headerStart...)
        var start = min(block.count, frameSize)
        write(.headers(stream: stream, fragment: Array(block[..<start]), endStream: endStream,
                       endHeaders: start == block.count, priority: nil, padding: nil))
        while start < block.count {
            let end = min(block.count, start + frameSize)
            write(.continuation(stream: stream, fragment: Array(block[start..<end]), endHeaders: end == block.count))
            start = end
        }
    }
}
