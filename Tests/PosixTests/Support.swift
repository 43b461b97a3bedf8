// Goal: shared scaffolding for loopback tests. Method: state that test threads observe lives in `Recorder`
// (a Mutex), and tests wait for conditions by polling against a deadline, never by sleeping and asserting.
import Glibc
import Posix
import Synchronization

/// A value shared between the loop thread and the test thread.
final class Recorder<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ initial: Value) {
        storage = Mutex(initial)
    }

    var value: Value { storage.withLock { $0 } }

    func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        storage.withLock { body(&$0) }
    }
}

extension Recorder where Value: RangeReplaceableCollection, Value.Element: Sendable {
    func append(_ element: Value.Element) {
        update { $0.append(element) }
    }
}

/// Polls `condition` every millisecond until it holds or `seconds` pass; returns whether it held.
func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = MonotonicClock.nanoseconds() + UInt64(seconds * 1e9)
    while MonotonicClock.nanoseconds() < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// Runs `work` on the loop thread and waits for its result (or a 10 s deadline).
func onLoop<T: Sendable>(_ thread: EventLoopThread,
                         _ work: @escaping @Sendable (EventLoop) throws -> T) throws -> T {
    let result = Recorder<Result<T, any Error>?>(nil)
    let accepted = thread.submit { loop in
        let outcome = Result { try work(loop) }
        result.update { $0 = outcome }
    }
    guard accepted else { throw TestFailure("loop is not running") }
    guard waitUntil({ result.value != nil }), let outcome = result.value else {
        throw TestFailure("loop did not run the work within the deadline")
    }
    return try outcome.get()
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Echoes every byte back and records how connections ended.
final class EchoDelegate: ConnectionDelegate {
    let closes: Recorder<[Connection.CloseReason]>

    init(closes: Recorder<[Connection.CloseReason]>) {
        self.closes = closes
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        connection.write(Array(bytes))
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        closes.append(reason)
    }
}

/// Sends `payload` once connected and records what comes back and how the connection ended.
final class ClientDelegate: ConnectionDelegate {
    let payload: [UInt8]
    let received: Recorder<[UInt8]>
    let closed: Recorder<Connection.CloseReason?>

    init(payload: [UInt8], received: Recorder<[UInt8]> = Recorder([]),
         closed: Recorder<Connection.CloseReason?> = Recorder(nil)) {
        self.payload = payload
        self.received = received
        self.closed = closed
    }

    func connectionDidConnect(_ connection: Connection) {
        connection.write(payload)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        received.update { $0.append(contentsOf: bytes) }
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        closed.update { $0 = reason }
    }
}

/// Starts a listener on 127.0.0.1:0 whose connections get delegates from `makeDelegate`; returns the port.
/// Accept and adopt errors are recorded in `errors`.
func startServer(on thread: EventLoopThread, limits: ConnectionLimits = ConnectionLimits(),
                 errors: Recorder<[String]> = Recorder([]),
                 makeDelegate: @escaping @Sendable () -> any ConnectionDelegate) throws -> UInt16 {
    try onLoop(thread) { loop in
        let listener = try Listener(on: .loopback(port: 0), backlog: 4096, loop: loop,
                                    onError: { errors.append($0.description) }) { socket, peer in
            do {
                _ = try Connection.adopt(socket, peer: peer, on: loop, limits: limits, delegate: makeDelegate())
            } catch {
                errors.append("\(error)")
            }
        }
        return listener.localAddress.port
    }
}
