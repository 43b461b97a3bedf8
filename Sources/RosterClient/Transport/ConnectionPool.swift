import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Idle keep-alive sockets by endpoint, so that a client's steady traffic (keepalives, lookups, watch
/// restarts) does not pay a TCP handshake, and a node does not hold a TIME_WAIT entry, per request.
///
/// Only sockets whose previous exchange ended cleanly on a framed body come back here. A socket is
/// reused only while younger than `maximumIdle` (well under the node's 60 s idle timeout) and only if
/// it has nothing to read: a socket the node closed, or one with stray bytes, is readable and is
/// closed instead, so a request is never written into a connection known to be finished.
final class ConnectionPool: Sendable {
    /// Longest a socket waits here before it is closed rather than reused.
    static let maximumIdle: Duration = .seconds(20)
    /// Most idle sockets kept per endpoint; extra ones are closed.
    static let maximumPerEndpoint = 8

    private struct Idle {
        var descriptor: Int32
        var since: ContinuousClock.Instant
    }

    private let idle = Mutex<[Endpoint: [Idle]]>([:])

    /// The process-wide pool every `RosterClient` shares.
    static let shared = ConnectionPool()

    /// A live idle socket to `endpoint`, if one is ready for a new request.
    func take(_ endpoint: Endpoint) -> Int32? {
        while let candidate = popNewest(endpoint) {
            if ContinuousClock.now - candidate.since < Self.maximumIdle && Self.isQuiet(candidate.descriptor) {
                return candidate.descriptor
            }
            _ = Glibc.close(candidate.descriptor)
        }
        return nil
    }

    /// Keeps a socket whose last exchange is complete, or closes it when the pool is full.
    func give(_ descriptor: Int32, to endpoint: Endpoint) {
        let kept = idle.withLock { pool -> Bool in
            var sockets = pool[endpoint, default: []]
            guard sockets.count < Self.maximumPerEndpoint else { return false }
            sockets.append(Idle(descriptor: descriptor, since: .now))
            pool[endpoint] = sockets
            return true
        }
        if !kept { _ = Glibc.close(descriptor) }
    }

    /// Closes every idle socket (tests; a client shutting down).
    func drain() {
        let all = idle.withLock { pool -> [Idle] in
            defer { pool = [:] }
            return pool.values.flatMap { $0 }
        }
        for socket in all { _ = Glibc.close(socket.descriptor) }
    }

    /// Number of idle sockets held for `endpoint`.
    func idleCount(_ endpoint: Endpoint) -> Int { idle.withLock { $0[endpoint]?.count ?? 0 } }

    private func popNewest(_ endpoint: Endpoint) -> Idle? {
        idle.withLock { pool in pool[endpoint]?.popLast() }
    }

    /// Nothing to read and no hang-up: the node has neither closed the socket nor sent anything since.
    private static func isQuiet(_ descriptor: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }
}
