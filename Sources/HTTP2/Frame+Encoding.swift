extension Frame {
    /// Appends the frame's wire form (header and payload, with padding octets of zero).
    ///
    /// The caller keeps payloads within the peer's SETTINGS_MAX_FRAME_SIZE; this only checks the 24-bit field.
    public func encode(into output: inout [UInt8]) {
        switch self {
        case .data(let stream, let payload, let endStream, let padding):
            let flags = (endStream ? FrameFlags.endStream : 0) | (padding != nil ? FrameFlags.padded : 0)
            writePadded(type: FrameType.data, flags: flags, stream: stream, padding: padding, into: &output) {
                $0.append(contentsOf: payload)
            }
        case .headers(let stream, let fragment, let endStream, let endHeaders, let priority, let padding):
            var flags = (endStream ? FrameFlags.endStream : 0) | (endHeaders ? FrameFlags.endHeaders : 0)
            flags |= (padding != nil ? FrameFlags.padded : 0) | (priority != nil ? FrameFlags.priority : 0)
            writePadded(type: FrameType.headers, flags: flags, stream: stream, padding: padding, into: &output) {
                if let priority { priority.encode(into: &$0) }
                $0.append(contentsOf: fragment)
            }
        case .priority(let stream, let priority):
            FrameHeader(length: 5, type: FrameType.priority, flags: 0, stream: stream).encode(into: &output)
            priority.encode(into: &output)
        case .rstStream(let stream, let code):
            FrameHeader(length: 4, type: FrameType.rstStream, flags: 0, stream: stream).encode(into: &output)
            appendUInt32(code.rawValue, to: &output)
        case .settings(let ack, let parameters):
            FrameHeader(length: parameters.count * 6, type: FrameType.settings, flags: ack ? FrameFlags.ack : 0,
                        stream: .connection).encode(into: &output)
            for parameter in parameters {
                output.append(UInt8(truncatingIfNeeded: parameter.identifier.rawValue >> 8))
                output.append(UInt8(truncatingIfNeeded: parameter.identifier.rawValue))
                appendUInt32(parameter.value, to: &output)
            }
        case .pushPromise(let stream, let promised, let fragment, let endHeaders, let padding):
            let flags = (endHeaders ? FrameFlags.endHeaders : 0) | (padding != nil ? FrameFlags.padded : 0)
            writePadded(type: FrameType.pushPromise, flags: flags, stream: stream, padding: padding, into: &output) {
                appendUInt32(promised.rawValue, to: &$0)
                $0.append(contentsOf: fragment)
            }
        case .ping(let ack, let opaque):
            FrameHeader(length: 8, type: FrameType.ping, flags: ack ? FrameFlags.ack : 0, stream: .connection)
                .encode(into: &output)
            appendUInt32(UInt32(truncatingIfNeeded: opaque >> 32), to: &output)
            appendUInt32(UInt32(truncatingIfNeeded: opaque), to: &output)
        case .goAway(let lastStream, let code, let debugData):
            FrameHeader(length: 8 + debugData.count, type: FrameType.goAway, flags: 0, stream: .connection)
                .encode(into: &output)
            appendUInt32(lastStream.rawValue, to: &output)
            appendUInt32(code.rawValue, to: &output)
            output.append(contentsOf: debugData)
        case .windowUpdate(let stream, let increment):
            FrameHeader(length: 4, type: FrameType.windowUpdate, flags: 0, stream: stream).encode(into: &output)
            appendUInt32(increment & 0x7FFF_FFFF, to: &output)
        case .continuation(let stream, let fragment, let endHeaders):
            FrameHeader(length: fragment.count, type: FrameType.continuation,
                        flags: endHeaders ? FrameFlags.endHeaders : 0, stream: stream).encode(into: &output)
            output.append(contentsOf: fragment)
        case .unknown(let type, let flags, let stream, let payload):
            FrameHeader(length: payload.count, type: type, flags: flags, stream: stream).encode(into: &output)
            output.append(contentsOf: payload)
        }
    }

    /// The frame's wire form as a new array.
    public var encoded: [UInt8] {
        var output: [UInt8] = []
        encode(into: &output)
        return output
    }

    /// Writes a header, the optional pad-length octet, the body written by `body`, and the zero padding; the
    /// length field is patched once the body's size is known.
    private func writePadded(type: UInt8, flags: UInt8, stream: StreamID, padding: Int?, into output: inout [UInt8],
                             body: (inout [UInt8]) -> Void) {
        precondition((0...255).contains(padding ?? 0), "padding \(padding ?? 0) does not fit one octet")
        let headerStart = output.count
        FrameHeader(length: 0, type: type, flags: flags, stream: stream).encode(into: &output)
        if let padding { output.append(UInt8(padding)) }
        body(&output)
        output.append(contentsOf: repeatElement(0, count: padding ?? 0))
        let length = output.count - headerStart - FrameHeader.size
        precondition(length <= FrameHeader.maximumLength, "frame payload \(length) does not fit 24 bits")
        output[headerStart] = UInt8(truncatingIfNeeded: length >> 16)
        output[headerStart + 1] = UInt8(truncatingIfNeeded: length >> 8)
        output[headerStart + 2] = UInt8(truncatingIfNeeded: length)
    }
}

extension PriorityInfo {
    func encode(into output: inout [UInt8]) {
        appendUInt32(dependency.rawValue | (exclusive ? 0x8000_0000 : 0), to: &output)
        output.append(weight)
    }
}
