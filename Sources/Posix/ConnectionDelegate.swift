/// Receives a `Connection`'s events, always on the connection's loop thread.
///
/// The connection holds its delegate strongly until it closes and then drops it, so a delegate may hold the
/// connection strongly too: the cycle is broken by `didCloseWith`, which is delivered exactly once.
public protocol ConnectionDelegate: AnyObject {
    /// The connection is established: an outbound connect finished (writes queued before now are being sent),
    /// or an accepted socket was adopted. A good place to arm an idle timer, so a peer that never sends a byte
    /// is still noticed (slowloris).
    func connectionDidConnect(_ connection: Connection)

    /// Bytes arrived. `bytes` points into the loop's shared scratch buffer and is valid only during this call:
    /// copy what must outlive it (e.g. `parser.append(bytes)`).
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer)

    /// The queued outbound bytes crossed the high-water mark (`true`; reading is now paused) or drained back to
    /// the low-water mark (`false`; reading resumed). A watch stream can use `true` to drop a slow watcher.
    func connection(_ connection: Connection, didChangeBackPressure isOverLimit: Bool)

    /// Queued bytes went out when the socket became writable again (the kernel had been full); what is left is
    /// `connection.outboundBytes`. A relay that mirrors the queue elsewhere learns of progress here, including
    /// a drain that never crossed the high-water mark (so no `didChangeBackPressure` reported it).
    func connectionDidFlushQueued(_ connection: Connection)

    /// The connection closed and its descriptor is released; no further calls follow.
    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason)
}

extension ConnectionDelegate {
    public func connectionDidConnect(_ connection: Connection) {}
    public func connection(_ connection: Connection, didChangeBackPressure isOverLimit: Bool) {}
    public func connectionDidFlushQueued(_ connection: Connection) {}
}

/// Buffer bounds for one connection.
public struct ConnectionLimits: Sendable, Equatable {
    /// Most bytes read per readiness event; also bounds how much one peer can take per loop iteration.
    public var readChunkBytes: Int
    /// Queued outbound bytes above which back-pressure starts (reading paused, delegate told).
    public var outboundHighWaterBytes: Int
    /// Queued outbound bytes at or below which back-pressure ends.
    public var outboundLowWaterBytes: Int
    /// Hard bound on queued outbound bytes: a write beyond it closes the connection with `.outboundOverflow`,
    /// so a peer that never reads can never grow our memory without limit.
    public var outboundMaxBytes: Int
    /// With a `ConnectionSecurity`: how long the handshake may take before the connection is closed with
    /// `.handshakeTimeout`, so connections that start a handshake and stall (slowloris) cannot pile up.
    public var handshakeTimeout: Duration = .seconds(10)

    /// Creates limits; requires `low <= high <= max` and a read chunk of 1 byte to 64 KiB.
    public init(readChunkBytes: Int = 16 * 1024, outboundHighWaterBytes: Int = 1 << 20,
                outboundLowWaterBytes: Int = 256 * 1024, outboundMaxBytes: Int = 8 << 20) {
        precondition((1...64 * 1024).contains(readChunkBytes), "readChunkBytes must be 1...65536")
        precondition(0 <= outboundLowWaterBytes && outboundLowWaterBytes <= outboundHighWaterBytes
                     && outboundHighWaterBytes <= outboundMaxBytes, "need low <= high <= max")
        self.readChunkBytes = readChunkBytes
        self.outboundHighWaterBytes = outboundHighWaterBytes
        self.outboundLowWaterBytes = outboundLowWaterBytes
        self.outboundMaxBytes = outboundMaxBytes
    }
}
