// Goal: pin down the pure parts of the client without processes: endpoint parsing, the watch cursor that makes
// resumed streams lose and repeat nothing, the pickers, and error classification. Method: table-driven Swift Testing
// cases on values; the socket cases talk to a port nothing listens on, or to a scripted listener, and wait on what
// the listener observed (a connection queued, a connection closed), never on a fixed sleep.
import Foundation
import RosterTestSupport
import Testing

@testable import RosterClient

extension ClientSuite {
    @Suite("client units")
    struct ClientUnitTests {
        @Test(
            "endpoints parse host:port, bare hosts, http:// and IPv6",
            arguments: [
                ("127.0.0.1:2381", "127.0.0.1", 2381), ("localhost", "localhost", 2379),
                ("http://10.0.0.1:80/", "10.0.0.1", 80), ("[::1]:9000", "::1", 9000),
            ] as [(String, String, UInt16)])
        func endpointParsing(text: String, host: String, port: UInt16) {
            #expect(Endpoint(text) == Endpoint(host: host, port: port))
        }

        @Test("malformed endpoints are refused", arguments: ["", "a:b", "a:1:2", ":80", "h:0", "h:70000"])
        func endpointRefused(text: String) {
            #expect(Endpoint(text) == nil)
        }

        @Test("a resumed watch skips exactly the events of its revision already delivered")
        func cursorSkipsDelivered() {
            var cursor = WatchCursor(from: 5)
            cursor.connected()
            var decisions: [Bool] = []
            func offer(_ revision: Int64) {
                let deliver = cursor.shouldDeliver(revision)
                decisions.append(deliver)
                if deliver { cursor.delivered(revision) }
            }
            offer(5)
            offer(7)  // the first of two events at revision 7; the stream breaks after it
            let resumeFrom = cursor.resumeFrom
            cursor.connected()  // the next node replays from revision 7
            offer(6)
            offer(7)
            offer(7)
            #expect(resumeFrom == 7)
            #expect(decisions == [true, true, false, false, true])
            cursor.startAfter(9)  // a progress line
            let afterProgress = cursor.resumeFrom
            cursor.startAfter(3)  // an older progress line from a lagging node
            #expect(afterProgress == 10)
            #expect(cursor.resumeFrom == 10)
        }

        @Test("pickers skip draining and zero-weight instances")
        func pickersSkipUnusable() {
            let instances = [
                ServiceInstance(service: "s", id: "a", endpoints: [], weight: 0),
                ServiceInstance(service: "s", id: "b", endpoints: [], status: .draining),
                ServiceInstance(service: "s", id: "c", endpoints: [], weight: 5),
            ]
            let roundRobin = RoundRobinPicker()
            let weighted = WeightedRandomPicker()
            for _ in 0..<10 {
                #expect(roundRobin.pick(from: instances)?.id == "c")
                #expect(weighted.pick(from: instances)?.id == "c")
            }
            #expect(roundRobin.pick(from: Array(instances.prefix(2))) == nil)
        }

        @Test("round robin takes usable instances in turn")
        func roundRobinTurns() {
            let instances = ["a", "b", "c"].map { ServiceInstance(service: "s", id: $0, endpoints: []) }
            let picker = RoundRobinPicker()
            #expect((0..<6).compactMap { _ in picker.pick(from: instances)?.id } == ["a", "b", "c", "a", "b", "c"])
        }

        @Test("server errors keep the server's code, message and status")
        func serverErrorMapping() {
            let body = Array(#"{"error":{"code":"stale_incarnation","message":"older"}}"#.utf8)
            let error = RosterClient.serverError(
                HTTPResponse(status: 409, headers: [:], body: body), endpoint: Endpoint(host: "h", port: 1))
            #expect(error.code == .staleIncarnation)
            #expect(error.isRejection)
            #expect(error.message == "older")
        }

        // The time limit only bounds a failure (a call that ignored its 600 ms deadline would retry forever).
        @Test("a call with no reachable node ends with unavailable at its deadline", .timeLimit(.minutes(1)))
        func unreachableIsUnavailable() async throws {
            var configuration = RosterClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: 1)])
            configuration.callTimeout = .milliseconds(600)
            let client = RosterClient(configuration: configuration)
            let error = await #expect(throws: RosterClientError.self) { try await client.services() }
            #expect(error?.code == .unavailable)
        }

        @Test("consecutive calls share one keep-alive connection; a connection the node closed is not reused")
        func connectionReuse() async throws {
            // Serves `answers[i]` requests on the i-th accepted connection, then closes it.
            let server = ScriptedServer(answers: [2, 1])
            let endpoint = Endpoint(host: "127.0.0.1", port: server.port)
            var configuration = RosterClientConfiguration(endpoints: [endpoint])
            configuration.callTimeout = .seconds(3)
            let client = RosterClient(configuration: configuration)
            // Two calls on the first connection, then it is closed by the node: the third call must notice and
            // open the second connection instead of failing on the dead one.
            for _ in 0..<2 {
                #expect(try await client.services().isEmpty)
            }
            try await Support.waitUntil("the node to close the first connection") { server.closed == 1 }
            #expect(try await client.services().isEmpty)
            #expect(server.accepted == 2)
            ConnectionPool.shared.drain()
        }

        @Test("an answer whose body keeps arriving may outlive the attempt's budget, up to the call's deadline")
        func slowBodyWithinCall() async throws {
            // The node answers the head at once, then sends the body a byte every 50 ms for 3 s: three attempt
            // budgets in all, yet never silent for one (before, the whole body had to fit in one attempt).
            let server = TricklingServer(padding: 60, pauseMilliseconds: 50)
            var configuration = RosterClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: server.port)])
            configuration.attemptTimeout = .seconds(1)
            configuration.callTimeout = .seconds(60)
            #expect(try await RosterClient(configuration: configuration).services().isEmpty)
            #expect(server.accepted == 1, "the call went to the node once: no retry cut the answer short")
            ConnectionPool.shared.drain()
        }

        @Test("cancelling a call ends it promptly with cancelled")
        func cancellation() async throws {
            // A listener that accepts and never answers.
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(server) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, length) }
            }
            _ = listen(server, 8)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(server, $0, &length) }
            }
            var configuration = RosterClientConfiguration(endpoints: [
                Endpoint(host: "127.0.0.1", port: UInt16(bigEndian: address.sin_port))
            ])
            configuration.callTimeout = .seconds(60)
            configuration.attemptTimeout = .seconds(60)
            let client = RosterClient(configuration: configuration)
            let call = Task { try await client.services() }
            // The call is in flight once its connection is queued on the listener (which never accepts).
            try await Support.waitUntil("the call to connect") {
                var descriptor = pollfd(fd: server, events: Int16(POLLIN), revents: 0)
                return poll(&descriptor, 1, 0) > 0
            }
            call.cancel()
            // Only cancellation can end the call with `cancelled`: its deadlines are 60 s away, and ending there
            // would say `unavailable`.
            let result = await call.result
            #expect(throws: RosterClientError.self) { try result.get() }
            if case .failure(let error as RosterClientError) = result { #expect(error.code == .cancelled) }
        }
    }
}

/// A listener on an ephemeral loopback port that answers `GET` requests with an empty service list, serving
/// `answers[i]` requests on its i-th connection and then closing it, on its own thread.
final class ScriptedServer: @unchecked Sendable {
    let port: UInt16
    private let descriptor: Int32
    private let lock = NSLock()
    private var acceptedCount = 0
    private var closedCount = 0

    var accepted: Int { lock.withLock { acceptedCount } }
    /// Connections served and closed so far.
    var closed: Int { lock.withLock { closedCount } }

    init(answers: [Int]) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        _ = listen(descriptor, 8)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        start(answers: answers)
    }

    private func start(answers: [Int]) {
        let listener = descriptor
        Thread { [self] in
            for count in answers {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                lock.withLock { acceptedCount += 1 }
                serve(connection, requests: count)
                close(connection)
                lock.withLock { closedCount += 1 }
            }
            close(listener)
        }.start()
    }

    private func serve(_ connection: Int32, requests: Int) {
        let body = #"{"services":[]}"#
        let answer = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        var pending: [UInt8] = []
        var served = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while served < requests {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            pending += buffer[0..<count]
            // Requests here have no body: each ends at its blank line.
            while served < requests, let end = pending.firstRange(of: [13, 10, 13, 10]) {
                pending.removeSubrange(..<end.upperBound)
                _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                served += 1
            }
        }
    }
}

/// A listener on an ephemeral loopback port that answers one `GET` with an empty service list whose body, after
/// an immediate head, arrives one whitespace byte at a time (`padding` bytes, `pauseMilliseconds` apart).
final class TricklingServer: @unchecked Sendable {
    let port: UInt16
    private let lock = NSLock()
    private var acceptedCount = 0
    var accepted: Int { lock.withLock { acceptedCount } }

    init(padding: Int, pauseMilliseconds: UInt32) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        _ = listen(listener, 8)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in
            defer { close(listener) }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            lock.withLock { acceptedCount += 1 }
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while request.firstRange(of: [13, 10, 13, 10]) == nil {
                let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return }
                request += buffer[0..<count]
            }
            let body = Array(String(repeating: " ", count: padding).utf8) + Array(#"{"services":[]}"#.utf8)
            let head = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
            let send = { (bytes: [UInt8]) in
                _ = bytes.withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            send(head)
            for byte in body.prefix(padding) {
                Waiting.pace(milliseconds: pauseMilliseconds)  // the answer's shape: a slow sender
                send([byte])
            }
            send(Array(body.dropFirst(padding)))
        }.start()
    }
}
