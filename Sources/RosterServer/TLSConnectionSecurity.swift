import Posix
import TLS

/// A `TLSEngine` as the `ConnectionSecurity` of a `Posix.Connection`: the connection moves the wire bytes, the
/// engine does TLS over memory buffers, and this adapter translates between the two vocabularies.
final class TLSConnectionSecurity: ConnectionSecurity {
    let engine: TLSEngine

    init(_ engine: TLSEngine) {
        self.engine = engine
    }

    /// What a client that spoke plain HTTP to a TLS port gets back before the connection closes, so curl
    /// without https:// prints a reason instead of "empty reply".
    static let plaintextHTTPReply: [UInt8] = {
        let body = "this port requires TLS: use https://\n"
        return Array(("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n" + body).utf8)
    }()

    var isEstablished: Bool { engine.isEstablished }
    var bufferedPlaintextBytes: Int { engine.bufferedPlaintextBytes }

    func start() throws(ConnectionSecurityFailure) {
        do {
            try engine.start()
        } catch {
            throw Self.failure(error)
        }
    }

    func receive(_ wire: UnsafeRawBufferPointer, into plaintext: inout [UInt8]) throws(ConnectionSecurityFailure) -> Bool {
        do {
            return try engine.receive(wire, into: &plaintext) == .open
        } catch {
            throw Self.failure(error)
        }
    }

    func send(_ plaintext: [UInt8]) throws(ConnectionSecurityFailure) {
        do {
            try engine.send(plaintext)
        } catch {
            throw Self.failure(error)
        }
    }

    func takeWireBytes() -> [UInt8] { engine.takeWireBytes() }

    func shutdown() { engine.shutdown() }

    private static func failure(_ error: TLSError) -> ConnectionSecurityFailure {
        ConnectionSecurityFailure(error.description, reply: error == .plaintextHTTP ? plaintextHTTPReply : [])
    }
}
