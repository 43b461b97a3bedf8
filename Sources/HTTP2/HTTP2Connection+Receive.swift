import HPACK

extension HTTP2Connection {
    /// Dispatches one decoded frame.
    mutating func handle(_ frame: Frame, _ events: inout [HTTP2Event]) throws(HTTP2Error) {
        if phase == .awaitingSettings {
            guard case .settings(ack: false, _) = frame else {
                throw .connection(.protocolError, "the first frame after the client preface must be SETTINGS")
            }
            phase = .active
        }
        if pendingHeaderBlock != nil {
            try continueHeaderBlock(frame, &events)
            return
        }
        switch frame {
        case .data(let stream, let payload, let endStream, let padding):
            try receiveData(stream, payload, endStream: endStream, padding: padding, &events)
        case .headers(let stream, let fragment, let endStream, let endHeaders, let priority, _):
            guard stream.isClientInitiated else {
                throw .connection(.protocolError, "HEADERS on even stream \(stream); clients open odd streams")
            }
            let pending = PendingHeaderBlock(stream: stream, block: fragment, endStream: endStream, priority: priority,
                                             continuations: 0)
            try checkBlockSize(pending)
            if endHeaders {
                try processHeaderBlock(pending, &events)
            } else {
                pendingHeaderBlock = pending
            }
        case .priority, .unknown:
            return  // PRIORITY is deprecated (RFC 9113 §5.3.2); unknown types are ignored (§5.5).
        case .rstStream(let stream, let code):
            try receiveReset(stream, code, &events)
        case .settings(let ack, let parameters):
            if !ack { try applySettings(parameters, &events) }
        case .pushPromise:
            throw .connection(.protocolError, "a client sent PUSH_PROMISE; only servers may push")
        case .ping(let ack, let opaque):
            guard !ack else { return }
            let before = outbound.count
            write(.ping(ack: true, opaque: opaque))
            if before == pingAcknowledgementBytes { pingAcknowledgementBytes = outbound.count }
        case .goAway(let lastStream, let code, let debugData):
            peerSentGoAway = true
            events.append(.goAway(lastStream: lastStream, code: code, debugData: debugData))
        case .windowUpdate(let stream, let increment):
            try receiveWindowUpdate(stream, Int(increment), &events)
        case .continuation(let stream, _, _):
            throw .connection(.protocolError, "CONTINUATION on stream \(stream) without a preceding HEADERS")
        }
    }

    // MARK: - Header blocks

    /// Appends a CONTINUATION to the pending block; any other frame in between is a connection error
    /// (RFC 9113 §6.10).
    private mutating func continueHeaderBlock(_ frame: Frame, _ events: inout [HTTP2Event]) throws(HTTP2Error) {
        guard var pending = pendingHeaderBlock else { return }
        guard case .continuation(let stream, let fragment, let endHeaders) = frame, stream == pending.stream else {
            throw .connection(.protocolError, "expected CONTINUATION on stream \(pending.stream), got a frame on "
                              + "stream \(frame.stream)")
        }
        pending.block += fragment
        pending.continuations += 1
        guard pending.continuations <= limits.maxContinuationFrames else {
            throw .connection(.enhanceYourCalm, "more than \(limits.maxContinuationFrames) CONTINUATION frames "
                              + "in one header block")
        }
        try checkBlockSize(pending)
        if endHeaders {
            pendingHeaderBlock = nil
            try processHeaderBlock(pending, &events)
        } else {
            pendingHeaderBlock = pending
        }
    }

    /// A block we will not assemble can't be decoded, and skipping it would desynchronize HPACK: connection error.
    private func checkBlockSize(_ pending: PendingHeaderBlock) throws(HTTP2Error) {
        guard pending.block.count <= limits.maxHeaderBlockBytes else {
            throw .connection(.enhanceYourCalm, "header block on stream \(pending.stream) exceeds "
                              + "\(limits.maxHeaderBlockBytes) octets")
        }
    }

    /// Decodes a complete block (always, to keep HPACK in step) and routes it: trailers on an open stream, a
    /// new request, or a late block on a closed stream.
    private mutating func processHeaderBlock(_ pending: PendingHeaderBlock,
                                             _ events: inout [HTTP2Event]) throws(HTTP2Error) {
        let stream = pending.stream
        var fields: [HeaderField] = []
        var isTooLarge = false
        do {
            fields = try headerDecoder.decode(pending.block)
        } catch {
            guard !error.isConnectionError else {
                throw .connection(.compressionError, "header block on stream \(stream) failed to decode: \(error)")
            }
            isTooLarge = true
        }
        if streams.contains(stream) {
            try receiveTrailers(stream, fields, endStream: pending.endStream, isTooLarge: isTooLarge, &events)
            return
        }
        guard stream > highestStream else {
            if recentlyReset.contains(stream) { return }
            if recentlyClosed.contains(stream) {
                throw .connection(.streamClosed, "HEADERS on closed stream \(stream)")
            }
            // Lower ids were never opened (or closed long ago): new streams must use increasing ids (§5.1.1).
            throw .connection(.protocolError, "HEADERS on stream \(stream), not above the last stream \(highestStream)")
        }
        highestStream = stream
        if let last = goAwayLastStream, stream > last { return }  // We said in GOAWAY we would not process it.
        if pending.priority?.dependency == stream {
            throw .stream(stream, .protocolError, "stream \(stream) depends on itself")
        }
        guard streams.count < limits.maxConcurrentStreams else {
            closeStream(stream, sending: .refusedStream)
            try chargeResetBudget("refused over SETTINGS_MAX_CONCURRENT_STREAMS \(limits.maxConcurrentStreams)")
            return
        }
        if isTooLarge {
            try refuseOversizedRequest(stream, endStream: pending.endStream)
            return
        }
        if let problem = RequestValidation.problem(inRequest: fields) {
            throw .stream(stream, .protocolError, "malformed request: \(problem)")
        }
        streams[stream] = StreamState(remoteEnded: pending.endStream, receiveWindow: limits.initialStreamWindowSize,
                                      sendWindow: peerSettings.initialWindowSize)
        events.append(.requestHeaders(stream, fields, endStream: pending.endStream))
    }

    /// Answers a request whose header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE with 431 (RFC 9113 §10.5.1).
    private mutating func refuseOversizedRequest(_ stream: StreamID, endStream: Bool) throws(HTTP2Error) {
        writeHeaderBlock([HeaderField(":status", "431")], on: stream, endStream: true)
        // The client may still be sending a body; NO_ERROR tells it to stop without failing the response.
        closeStream(stream, sending: endStream ? nil : .noError)
        try chargeResetBudget("header lists over \(limits.maxHeaderListSize) octets")
    }

    private mutating func receiveTrailers(_ stream: StreamID, _ fields: [HeaderField], endStream: Bool,
                                          isTooLarge: Bool, _ events: inout [HTTP2Event]) throws(HTTP2Error) {
        guard let state = streams[stream], !state.remoteEnded else {
            throw .stream(stream, .streamClosed, "HEADERS after the client ended stream \(stream)")
        }
        guard endStream else {
            throw .stream(stream, .protocolError, "second HEADERS on stream \(stream) without END_STREAM")
        }
        guard !isTooLarge else {
            throw .stream(stream, .enhanceYourCalm, "trailers exceed \(limits.maxHeaderListSize) octets")
        }
        if let problem = RequestValidation.problem(inTrailers: fields) {
            throw .stream(stream, .protocolError, "malformed trailers: \(problem)")
        }
        streams[stream]?.remoteEnded = true
        events.append(.trailers(stream, fields))
        removeIfFinished(stream)
    }

    // MARK: - DATA and flow control

    private mutating func receiveData(_ stream: StreamID, _ payload: [UInt8], endStream: Bool, padding: Int?,
                                      _ events: inout [HTTP2Event]) throws(HTTP2Error) {
        let flowLength = payload.count + (padding.map { $0 + 1 } ?? 0)
        // Every DATA frame counts against the connection window, even on a closed stream (RFC 9113 §6.9).
        guard flowLength <= connectionReceiveWindow else {
            throw .connection(.flowControlError, "DATA of \(flowLength) octets exceeds the connection window of "
                              + "\(connectionReceiveWindow)")
        }
        connectionReceiveWindow -= flowLength
        connectionReceivedSinceUpdate += flowLength
        if connectionReceivedSinceUpdate >= limits.connectionWindowSize / 2 {
            write(.windowUpdate(stream: .connection, increment: UInt32(connectionReceivedSinceUpdate)))
            connectionReceiveWindow += connectionReceivedSinceUpdate
            connectionReceivedSinceUpdate = 0
        }
        guard var state = streams[stream] else {
            guard stream <= highestStream else {
                throw .connection(.protocolError, "DATA on idle stream \(stream)")
            }
            if recentlyReset.contains(stream) { return }
            throw .stream(stream, .streamClosed, "DATA on closed stream \(stream)")
        }
        guard !state.remoteEnded else {
            throw .stream(stream, .streamClosed, "DATA after the client ended stream \(stream)")
        }
        guard flowLength <= state.receiveWindow else {
            throw .stream(stream, .flowControlError, "DATA of \(flowLength) octets exceeds stream \(stream)'s "
                          + "window of \(state.receiveWindow)")
        }
        if payload.isEmpty && !endStream {
            emptyDataFrames += 1
            guard emptyDataFrames <= limits.maxEmptyDataFrames else {
                throw .connection(.enhanceYourCalm, "more than \(limits.maxEmptyDataFrames) empty DATA frames")
            }
        }
        state.receiveWindow -= flowLength
        state.remoteEnded = endStream
        if !endStream {
            state.receivedSinceUpdate += flowLength
            if state.receivedSinceUpdate >= limits.initialStreamWindowSize / 2 {
                write(.windowUpdate(stream: stream, increment: UInt32(state.receivedSinceUpdate)))
                state.receiveWindow += state.receivedSinceUpdate
                state.receivedSinceUpdate = 0
            }
        }
        streams[stream] = state
        events.append(.data(stream, payload, endStream: endStream))
        removeIfFinished(stream)
    }

    private mutating func receiveWindowUpdate(_ stream: StreamID, _ increment: Int,
                                              _ events: inout [HTTP2Event]) throws(HTTP2Error) {
        if stream == .connection {
            let before = connectionSendWindow
            connectionSendWindow += increment
            guard connectionSendWindow <= HTTP2Constants.maximumWindowSize else {
                throw .connection(.flowControlError, "WINDOW_UPDATE takes the connection window past 2^31-1")
            }
            if before <= 0 && connectionSendWindow > 0 { events.append(.windowOpened(.connection)) }
            return
        }
        guard var state = streams[stream] else {
            guard stream <= highestStream else {
                throw .connection(.protocolError, "WINDOW_UPDATE on idle stream \(stream)")
            }
            return  // Closed streams may still get updates the client sent before it saw our END_STREAM.
        }
        let before = state.sendWindow
        state.sendWindow += increment
        guard state.sendWindow <= HTTP2Constants.maximumWindowSize else {
            throw .stream(stream, .flowControlError, "WINDOW_UPDATE takes stream \(stream)'s window past 2^31-1")
        }
        streams[stream] = state
        if before <= 0 && state.sendWindow > 0 { events.append(.windowOpened(stream)) }
    }

    private mutating func receiveReset(_ stream: StreamID, _ code: HTTP2ErrorCode,
                                       _ events: inout [HTTP2Event]) throws(HTTP2Error) {
        guard stream <= highestStream else {
            throw .connection(.protocolError, "RST_STREAM on idle stream \(stream)")
        }
        guard closeStream(stream, sending: nil) else { return }
        events.append(.streamReset(stream, code))
        try chargeResetBudget("reset by the client")
    }

    // MARK: - SETTINGS

    /// Applies the client's SETTINGS in order, then acknowledges them (RFC 9113 §6.5.3).
    private mutating func applySettings(_ parameters: [SettingsParameter],
                                        _ events: inout [HTTP2Event]) throws(HTTP2Error) {
        for parameter in parameters {
            let value = Int(parameter.value)
            switch parameter.identifier {
            case .headerTableSize:
                peerSettings.headerTableSize = value
                headerEncoder.setPeerMaxTableSize(value)
            case .initialWindowSize:
                try changeInitialWindowSize(to: value, &events)
            case .maxFrameSize:
                peerSettings.maxFrameSize = value
            case .maxConcurrentStreams:
                peerSettings.maxConcurrentStreams = value
            case .maxHeaderListSize:
                peerSettings.maxHeaderListSize = value
            default:
                continue  // ENABLE_PUSH means nothing to a server; unknown ids (gRPC's 0xFE03) are ignored.
            }
        }
        write(.settings(ack: true, parameters: []))
    }

    /// Shifts every open stream's send window by the change (RFC 9113 §6.9.2); windows may go negative.
    private mutating func changeInitialWindowSize(to value: Int, _ events: inout [HTTP2Event]) throws(HTTP2Error) {
        let delta = value - peerSettings.initialWindowSize
        peerSettings.initialWindowSize = value
        for stream in streams.keys.sorted() {
            guard var state = streams[stream] else { continue }
            let before = state.sendWindow
            state.sendWindow += delta
            guard state.sendWindow <= HTTP2Constants.maximumWindowSize else {
                throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE \(value) takes stream \(stream)'s "
                                  + "window past 2^31-1")
            }
            streams[stream] = state
            if before <= 0 && state.sendWindow > 0 { events.append(.windowOpened(stream)) }
        }
    }
}
