import DNS
import Posix

/// One DNS client over TCP (RFC 1035 §4.2.2, RFC 7766): queries and answers, each behind a 2-byte length.
///
/// Queries are answered in order as they complete, so at most one message (65,535 bytes) plus one read
/// chunk is ever buffered; answers queue in the connection, whose limits pause reading and then cut a client
/// that does not read them. A connection that completes no query within the idle timeout is closed, which
/// also ends a client trickling one byte at a time.
final class DNSTCPSession: ConnectionDelegate {
    private unowned let server: DNSServer
    private let answer: DNSServer.Answer
    var connection: Connection?
    private var buffer: [UInt8] = []
    private var idleTimer: TimerID?

    init(server: DNSServer, answer: @escaping DNSServer.Answer) {
        self.server = server
        self.answer = answer
    }

    func connectionDidConnect(_ connection: Connection) {
        self.connection = connection
        armIdleTimer(connection)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        var consumed = 0
        while buffer.count - consumed >= 2 {
            let length = Int(buffer[consumed]) << 8 | Int(buffer[consumed + 1])
            guard buffer.count - consumed - 2 >= length else { break }
            let query = Array(buffer[(consumed + 2)..<(consumed + 2 + length)])
            consumed += 2 + length
            armIdleTimer(connection)
            guard let response = answer(query, .tcp) else { continue }
            connection.write([UInt8(response.count >> 8), UInt8(response.count & 0xFF)] + response)
            guard !connection.isClosed else { return }
        }
        if consumed > 0 { buffer.removeFirst(consumed) }
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        if let idleTimer { connection.loop.cancel(idleTimer) }
        idleTimer = nil
        buffer = []
        self.connection = nil
        server.sessionClosed(self)
    }

    private func armIdleTimer(_ connection: Connection) {
        if let idleTimer { connection.loop.cancel(idleTimer) }
        idleTimer = connection.loop.schedule(after: server.limits.tcpIdleTimeout) { [weak self] in
            self?.idleTimer = nil
            self?.connection?.close()
        }
    }
}
