import Foundation
import Posix

/// The one way tests wait: poll a condition against a deadline. The deadline only bounds a failure (a loaded
/// 2-core machine just takes longer to pass); it is never what a test passes on.
public enum Waiting {
    /// Polls `condition` every 10 ms until it holds or `seconds` pass.
    /// - Throws: `TestFailure.timedOut(what)` when the deadline passes first.
    public static func until(_ what: String, seconds: Double = 15, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        if await condition() { return }
        throw TestFailure.timedOut(what)
    }

    /// A reader's pause between reads, to play a slow client: load shape, not synchronisation.
    public static func pace(milliseconds: UInt32) {
        CurrentThread.sleep(for: .milliseconds(milliseconds))
    }
}

/// Client sockets to a node on loopback, for tests that must see the bytes a client library would hide.
public enum LoopbackSocket {
    /// A connected TCP socket to 127.0.0.1:`port`, or nil (nothing left open) when the connect fails.
    /// - Parameters:
    ///   - receiveBufferBytes: A small kernel receive buffer, so that not reading backs the server up quickly.
    ///   - receiveTimeoutMicroseconds: How long a `recv` may block before it gives up.
    public static func connect(port: UInt16, receiveBufferBytes: Int32? = nil, receiveTimeoutMicroseconds: Int? = nil)
        -> Int32?
    {
        try? BlockingSocket.connect(
            to: .loopback(port: port), receiveBufferBytes: receiveBufferBytes,
            receiveTimeout: receiveTimeoutMicroseconds.map { .microseconds($0) }
        ).descriptor
    }
}
