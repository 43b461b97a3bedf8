/// A security layer (TLS) between a `Connection`'s socket and its delegate: wire bytes on one side, plaintext
/// on the other.
///
/// The layer never touches the descriptor: the connection reads wire bytes and feeds them in, and sends what
/// `takeWireBytes()` returns through its own bounded queue, so every syscall stays here in `Posix` and the
/// layer (OpenSSL over memory buffers in the `TLS` module) can be tested without sockets. The delegate sees
/// `connectionDidConnect` only once `isEstablished`, and plaintext only after that: a peer whose identity
/// did not check out never gets a byte to the protocol above.
public protocol ConnectionSecurity: AnyObject {
    /// True once the handshake finished and the other side's identity was accepted.
    var isEstablished: Bool { get }
    /// Plaintext accepted by `send` and waiting for the handshake; counted against `outboundMaxBytes`.
    var bufferedPlaintextBytes: Int { get }
    /// The dialing side starts the handshake (its first bytes are then in `takeWireBytes()`).
    func start() throws(ConnectionSecurityFailure)
    /// Feeds wire bytes; appends the plaintext they complete. Returns false when the other side ended the
    /// session cleanly (no more plaintext will come).
    func receive(_ wire: UnsafeRawBufferPointer, into plaintext: inout [UInt8]) throws(ConnectionSecurityFailure) -> Bool
    /// Takes plaintext to protect and send.
    func send(_ plaintext: [UInt8]) throws(ConnectionSecurityFailure)
    /// Wire bytes produced so far, to send in order; empties the layer's buffer.
    func takeWireBytes() -> [UInt8]
    /// Ends the session cleanly (TLS close_notify), producing wire bytes to send.
    func shutdown()
}

/// Why a security layer refused a connection, with what to send before closing.
public struct ConnectionSecurityFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for logs (never secret: no keys, no plaintext).
    public var description: String
    /// Bytes to send as they are before closing, after the layer's own alert: for example a plain-HTTP 400
    /// telling a client that spoke HTTP to a TLS port to use https.
    public var reply: [UInt8]

    public init(_ description: String, reply: [UInt8] = []) {
        self.description = description
        self.reply = reply
    }
}
