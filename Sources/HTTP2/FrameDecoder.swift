/// Cuts a byte stream into frames, whatever the chunking of the input.
///
/// Bytes are appended as they arrive; `nextFrame()` returns a frame once all its octets are present, or nil for
/// "need more". A frame whose declared length exceeds `maxFrameSize` is refused as soon as its 9-octet header
/// is seen, so a peer can never make us buffer more than one maximal frame plus one read's worth of bytes.
public struct FrameDecoder: Sendable {
    /// Our SETTINGS_MAX_FRAME_SIZE: the largest payload accepted.
    public var maxFrameSize: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    /// Creates a decoder accepting payloads up to `maxFrameSize` octets.
    public init(maxFrameSize: Int = HTTP2Constants.defaultMaxFrameSize) {
        precondition((HTTP2Constants.defaultMaxFrameSize...HTTP2Constants.maximumMaxFrameSize).contains(maxFrameSize),
                     "max frame size \(maxFrameSize) outside 16384...16777215")
        self.maxFrameSize = maxFrameSize
    }

    /// Octets received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends received octets.
    public mutating func append<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > 4096 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil if more octets are needed.
    /// - Throws: `HTTP2Error` for an oversized or malformed frame. After a stream error the frame has been
    ///   consumed and decoding may continue; after a connection error the stream of frames has no trustworthy
    ///   boundary left and the decoder must not be used again.
    public mutating func nextFrame() throws(HTTP2Error) -> Frame? {
        guard bufferedByteCount >= FrameHeader.size else { return nil }
        let header = FrameHeader(buffer, at: readIndex)
        guard header.length <= maxFrameSize else {
            throw .connection(.frameSizeError,
                              "frame of \(header.length) octets exceeds SETTINGS_MAX_FRAME_SIZE \(maxFrameSize)")
        }
        guard bufferedByteCount >= FrameHeader.size + header.length else { return nil }
        let payloadStart = readIndex + FrameHeader.size
        readIndex = payloadStart + header.length
        return try Frame.decode(header: header, bytes: buffer, payloadStart: payloadStart)
    }
}
