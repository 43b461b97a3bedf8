// Goal: prove the Posix event loop and the pure HTTP codec fit together: a minimal keep-alive HTTP/1.1 server
// (test support, not a module). Method: one `HTTPRequestParser` per connection fed from `didRead`; every complete
// request gets a response; parse errors answer `error.status` with `Connection: close`; an idle timer closes
// connections that do not complete a request in time (slowloris, reliability.md §9).
import HTTP
import Posix

/// Turns a request into status, headers and body; runs on the loop thread.
typealias HTTPHandler = (HTTPRequest) -> (status: HTTPStatus, headers: HTTPHeaders, body: [UInt8])

/// Serves HTTP/1.1 on one connection.
final class HTTPServerConnection: ConnectionDelegate {
    private var parser: HTTPRequestParser
    private let handler: HTTPHandler
    private let requestTimeout: Duration
    private var idleTimer: TimerID?
    private var output: [UInt8] = []

    init(limits: HTTPParserLimits = HTTPParserLimits(), requestTimeout: Duration = .seconds(10),
         handler: @escaping HTTPHandler) {
        self.parser = HTTPRequestParser(limits: limits)
        self.handler = handler
        self.requestTimeout = requestTimeout
    }

    func connectionDidConnect(_ connection: Connection) {
        armTimer(connection)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        if idleTimer == nil { armTimer(connection) }
        parser.append(bytes)
        output.removeAll(keepingCapacity: true)
        var close = false
        do {
            while !close, let request = try parser.nextRequest() {
                let response = handler(request)
                close = !request.keepAlive
                HTTPResponseWriter.writeResponse(status: response.status, headers: response.headers,
                                                 body: response.body, keepAlive: !close, into: &output)
            }
        } catch {
            HTTPResponseWriter.writeResponse(status: error.status, keepAlive: false, into: &output)
            close = true
        }
        connection.write(output)
        if close {
            connection.closeAfterFlush()
        } else if parser.isIdle {
            // A complete request resets the clock; a partial one keeps the original deadline.
            disarmTimer(connection)
        }
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        disarmTimer(connection)
    }

    private func armTimer(_ connection: Connection) {
        idleTimer = connection.loop.schedule(after: requestTimeout) { [weak connection] in
            guard let connection else { return }
            var response: [UInt8] = []
            HTTPResponseWriter.writeResponse(status: .requestTimeout, keepAlive: false, into: &response)
            connection.write(response)
            connection.closeAfterFlush()
        }
    }

    private func disarmTimer(_ connection: Connection) {
        if let idleTimer { connection.loop.cancel(idleTimer) }
        idleTimer = nil
    }
}
