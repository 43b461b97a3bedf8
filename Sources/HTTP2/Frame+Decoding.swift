extension Frame {
    /// Parses one frame's payload, applying the size, stream-id and field rules of RFC 9113 §6 for its type.
    ///
    /// - Parameters:
    ///   - header: the already-parsed 9-octet header.
    ///   - bytes: the buffer holding the payload at `payloadStart..<payloadStart + header.length`.
    /// - Throws: `HTTP2Error` with the exact code and scope the RFC prescribes. A stream error is thrown only
    ///   after the frame is fully consumed, so the caller can reset the stream and keep reading.
    static func decode(header: FrameHeader, bytes: [UInt8], payloadStart: Int) throws(HTTP2Error) -> Frame {
        let payload = payloadStart..<(payloadStart + header.length)
        switch header.type {
        case FrameType.data:
            try requireStream(header, "DATA")
            let (body, padding) = try unpad(header, bytes, payload, prefixLength: 0)
            return .data(stream: header.stream, payload: Array(bytes[body]),
                         endStream: header.flags & FrameFlags.endStream != 0, padding: padding)
        case FrameType.headers:
            return try decodeHeaders(header, bytes, payload)
        case FrameType.priority:
            try requireStream(header, "PRIORITY")
            guard header.length == 5 else {
                throw .stream(header.stream, .frameSizeError, "PRIORITY frame of \(header.length) octets, not 5")
            }
            let priority = PriorityInfo(bytes, at: payload.lowerBound)
            guard priority.dependency != header.stream else {
                throw .stream(header.stream, .protocolError, "stream \(header.stream) depends on itself")
            }
            return .priority(stream: header.stream, priority)
        case FrameType.rstStream:
            try requireStream(header, "RST_STREAM")
            try requireLength(header, 4, "RST_STREAM")
            return .rstStream(stream: header.stream,
                              code: HTTP2ErrorCode(rawValue: readUInt32(bytes, at: payload.lowerBound)))
        case FrameType.settings:
            return try decodeSettings(header, bytes, payload)
        case FrameType.pushPromise:
            try requireStream(header, "PUSH_PROMISE")
            let (body, padding) = try unpad(header, bytes, payload, prefixLength: 4)
            let promised = StreamID(rawValue: readUInt32(bytes, at: body.lowerBound - 4) & 0x7FFF_FFFF)
            return .pushPromise(stream: header.stream, promised: promised, fragment: Array(bytes[body]),
                                endHeaders: header.flags & FrameFlags.endHeaders != 0, padding: padding)
        case FrameType.ping:
            try requireConnection(header, "PING")
            try requireLength(header, 8, "PING")
            let opaque = UInt64(readUInt32(bytes, at: payload.lowerBound)) << 32
                | UInt64(readUInt32(bytes, at: payload.lowerBound + 4))
            return .ping(ack: header.flags & FrameFlags.ack != 0, opaque: opaque)
        case FrameType.goAway:
            try requireConnection(header, "GOAWAY")
            guard header.length >= 8 else {
                throw .connection(.frameSizeError, "GOAWAY frame of \(header.length) octets, fewer than 8")
            }
            return .goAway(lastStream: StreamID(rawValue: readUInt32(bytes, at: payload.lowerBound) & 0x7FFF_FFFF),
                           code: HTTP2ErrorCode(rawValue: readUInt32(bytes, at: payload.lowerBound + 4)),
                           debugData: Array(bytes[(payload.lowerBound + 8)..<payload.upperBound]))
        case FrameType.windowUpdate:
            return try decodeWindowUpdate(header, bytes, payload)
        case FrameType.continuation:
            try requireStream(header, "CONTINUATION")
            return .continuation(stream: header.stream, fragment: Array(bytes[payload]),
                                 endHeaders: header.flags & FrameFlags.endHeaders != 0)
        default:
            return .unknown(type: header.type, flags: header.flags, stream: header.stream,
                            payload: Array(bytes[payload]))
        }
    }

    private static func decodeHeaders(_ header: FrameHeader, _ bytes: [UInt8],
                                      _ payload: Range<Int>) throws(HTTP2Error) -> Frame {
        try requireStream(header, "HEADERS")
        let hasPriority = header.flags & FrameFlags.priority != 0
        let (body, padding) = try unpad(header, bytes, payload, prefixLength: hasPriority ? 5 : 0)
        let priority = hasPriority ? PriorityInfo(bytes, at: body.lowerBound - 5) : nil
        // A self-dependent HEADERS is a stream error, but its block must still reach HPACK, so the connection
        // checks `priority` after decoding the block rather than this function throwing here.
        return .headers(stream: header.stream, fragment: Array(bytes[body]),
                        endStream: header.flags & FrameFlags.endStream != 0,
                        endHeaders: header.flags & FrameFlags.endHeaders != 0, priority: priority, padding: padding)
    }

    private static func decodeSettings(_ header: FrameHeader, _ bytes: [UInt8],
                                       _ payload: Range<Int>) throws(HTTP2Error) -> Frame {
        try requireConnection(header, "SETTINGS")
        let isAck = header.flags & FrameFlags.ack != 0
        if isAck && header.length != 0 {
            throw .connection(.frameSizeError, "SETTINGS acknowledgement with a \(header.length)-octet payload")
        }
        guard header.length % 6 == 0 else {
            throw .connection(.frameSizeError, "SETTINGS payload of \(header.length) octets is not a multiple of 6")
        }
        var parameters: [SettingsParameter] = []
        parameters.reserveCapacity(header.length / 6)
        for offset in stride(from: payload.lowerBound, to: payload.upperBound, by: 6) {
            let parameter = SettingsParameter(SettingsIdentifier(rawValue: UInt16(bytes[offset]) << 8
                                                                 | UInt16(bytes[offset + 1])),
                                              readUInt32(bytes, at: offset + 2))
            try validate(parameter)
            parameters.append(parameter)
        }
        return .settings(ack: isAck, parameters: parameters)
    }

    /// Value rules of RFC 9113 §6.5.2.
    private static func validate(_ parameter: SettingsParameter) throws(HTTP2Error) {
        let value = Int(parameter.value)
        switch parameter.identifier {
        case .enablePush where value > 1:
            throw .connection(.protocolError, "SETTINGS_ENABLE_PUSH of \(value), not 0 or 1")
        case .initialWindowSize where value > HTTP2Constants.maximumWindowSize:
            throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE of \(value) exceeds 2^31-1")
        case .maxFrameSize where value < HTTP2Constants.defaultMaxFrameSize
            || value > HTTP2Constants.maximumMaxFrameSize:
            throw .connection(.protocolError, "SETTINGS_MAX_FRAME_SIZE of \(value) outside 16384...16777215")
        default:
            return
        }
    }

    private static func decodeWindowUpdate(_ header: FrameHeader, _ bytes: [UInt8],
                                           _ payload: Range<Int>) throws(HTTP2Error) -> Frame {
        try requireLength(header, 4, "WINDOW_UPDATE")
        let increment = readUInt32(bytes, at: payload.lowerBound) & 0x7FFF_FFFF
        guard increment > 0 else {
            if header.stream == .connection {
                throw .connection(.protocolError, "WINDOW_UPDATE with an increment of 0 on the connection")
            }
            throw .stream(header.stream, .protocolError, "WINDOW_UPDATE with an increment of 0")
        }
        return .windowUpdate(stream: header.stream, increment: increment)
    }

    /// Splits a padded payload into (fields and body after `prefixLength` fixed octets, padding length).
    private static func unpad(_ header: FrameHeader, _ bytes: [UInt8], _ payload: Range<Int>,
                              prefixLength: Int) throws(HTTP2Error) -> (Range<Int>, Int?) {
        var start = payload.lowerBound
        var padding: Int?
        if header.flags & FrameFlags.padded != 0 {
            guard header.length >= 1 else {
                throw .connection(.frameSizeError, "padded frame type \(header.type) has no pad-length octet")
            }
            padding = Int(bytes[start])
            start += 1
        }
        guard payload.upperBound - start >= prefixLength else {
            throw .connection(.frameSizeError,
                              "frame type \(header.type) of \(header.length) octets is too short for its fields")
        }
        start += prefixLength
        let end = payload.upperBound - (padding ?? 0)
        guard end >= start else {
            throw .connection(.protocolError,
                              "padding of \(padding ?? 0) octets exceeds the \(header.length)-octet frame "
                              + "of type \(header.type)")
        }
        return (start..<end, padding)
    }

    private static func requireStream(_ header: FrameHeader, _ name: String) throws(HTTP2Error) {
        guard header.stream != .connection else { throw .connection(.protocolError, "\(name) frame on stream 0") }
    }

    private static func requireConnection(_ header: FrameHeader, _ name: String) throws(HTTP2Error) {
        guard header.stream == .connection else {
            throw .connection(.protocolError, "\(name) frame on stream \(header.stream), not stream 0")
        }
    }

    private static func requireLength(_ header: FrameHeader, _ length: Int, _ name: String) throws(HTTP2Error) {
        guard header.length == length else {
            throw .connection(.frameSizeError, "\(name) frame of \(header.length) octets, not \(length)")
        }
    }
}

extension PriorityInfo {
    init(_ bytes: [UInt8], at offset: Int) {
        let raw = readUInt32(bytes, at: offset)
        self.init(exclusive: raw & 0x8000_0000 != 0, dependency: StreamID(rawValue: raw & 0x7FFF_FFFF),
                  weight: bytes[offset + 4])
    }
}
