import Posix
import Wire

/// Bounds and timings of a `PeerTransport`. Every queue and buffer the transport keeps has a limit here.
public struct PeerTransportOptions: Sendable, Equatable {
    /// Largest frame payload sent or accepted. Must cover the largest append (`RaftOptions.maxBytesPerAppend`),
    /// snapshot chunk and forwarded command, plus their encoding overhead.
    public var maxFrameBytes = 8 << 20
    /// Bounds on decoded Raft messages (entries per append, snapshot chunk size, …).
    public var messageLimits = MessageDecodingLimits.standard
    /// Largest command inside a forwarded proposal.
    public var maxForwardCommandBytes = 4 << 20
    /// Bytes one peer's outbound queue may hold beyond what the connection has buffered; on overflow the
    /// oldest non-snapshot messages are dropped (Raft retransmits).
    public var outboundQueueBytes = 8 << 20
    /// Bytes handed to one connection before further frames wait in the transport's own queue. Small, so that
    /// a heartbeat queued behind snapshot chunks overtakes them in the transport's queue instead of sitting
    /// behind megabytes in the connection's FIFO.
    public var sendWindowBytes = 256 << 10
    /// First reconnect delay after a failed or broken connection; doubles per failure up to the maximum.
    public var reconnectInitialDelay: Duration = .milliseconds(50)
    public var reconnectMaxDelay: Duration = .seconds(2)
    /// An accepted connection must send a valid first frame within this time or it is closed (slowloris).
    public var handshakeTimeout: Duration = .seconds(10)
    /// Accepted connections held at once; further ones are closed at once.
    public var maxInboundConnections = 256
    /// Most bytes read from one connection per wake-up.
    public var readChunkBytes = 64 << 10

    /// The defaults.
    public init() {}

    /// Buffer bounds for outbound connections: back-pressure starts at the send window, and the hard maximum
    /// leaves room for one maximal frame written just below the window, so a write never overflows.
    var outboundConnectionLimits: ConnectionLimits {
        ConnectionLimits(readChunkBytes: readChunkBytes, outboundHighWaterBytes: sendWindowBytes,
                         outboundLowWaterBytes: sendWindowBytes / 4,
                         outboundMaxBytes: sendWindowBytes + maxFrameBytes + PeerFrame.headerBytes)
    }

    /// Buffer bounds for accepted connections, which never write.
    var inboundConnectionLimits: ConnectionLimits {
        ConnectionLimits(readChunkBytes: readChunkBytes, outboundHighWaterBytes: 4096, outboundLowWaterBytes: 1024,
                         outboundMaxBytes: 4096)
    }
}

extension ServerConfiguration {
    /// Transport options sized for this configuration: a forwarded proposal carries a whole client request.
    public var peerTransportOptions: PeerTransportOptions {
        var options = PeerTransportOptions()
        options.maxForwardCommandBytes = max(options.maxForwardCommandBytes, maxRequestBytes + (64 << 10))
        options.maxFrameBytes = max(options.maxFrameBytes, options.maxForwardCommandBytes + (64 << 10))
        return options
    }
}
