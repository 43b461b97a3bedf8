// Watch streams: NDJSON watch connections read by a few threads with poll(2). A connection is either one
// `GET /v1/watch` stream (one watch) or one `POST /v1/watch` stream carrying many watches, as etcd's Go client
// carries many `Watch` calls on one connection.
import Glibc
import Posix  // MonotonicClock: CLOCK_MONOTONIC, the clock Python's time.monotonic_ns() reads

/// One event seen on a watch stream.
struct SeenEvent {
    var revision: Int64
    var isDelete: Bool
    var id: String
    var at: UInt64
}

final class WatchConnection: @unchecked Sendable {
    let fd: Int32
    var pending: [UInt8] = []
    /// Events per watch: slot 0 for a `GET` stream, slot id-1 for watch `id` of a multiplexed stream.
    var watchEvents: [[SeenEvent]]
    var open = true

    /// The events of a single-watch stream.
    var events: [SeenEvent] { watchEvents[0] }

    /// Connects with `GET path` and reads the response head; the stream's lines follow.
    init(endpoint: String, path: String) throws(ClientError) {
        watchEvents = [[]]
        fd = try connectTCP(endpoint, timeoutMilliseconds: 10_000)
        do throws(ClientError) {
            try writeAll(fd, Array("GET \(path) HTTP/1.1\r\nHost: \(endpoint)\r\n\r\n".utf8))
            try readHead()
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Opens a watch stream (`POST /v1/watch`) with `watches` watches of `service` (ids 1...watches), and
    /// waits until the server has confirmed every one, so no write of the run precedes a watch.
    init(endpoint: String, service: String, watches: Int) throws(ClientError) {
        watchEvents = Array(repeating: [], count: watches)
        fd = try connectTCP(endpoint, timeoutMilliseconds: 10_000)
        do throws(ClientError) {
            try writeAll(fd, Array("POST /v1/watch HTTP/1.1\r\nHost: \(endpoint)\r\n\r\n".utf8))
            try readHead()
            var creates: [UInt8] = []
            for id in 1...watches { creates += Array("{\"create\":{\"id\":\(id),\"service\":\"\(service)\"}}\n".utf8) }
            try writeAll(fd, creates)
            var chunk = [UInt8](repeating: 0, count: 65536)
            while created < watches {
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { throw ClientError(description: "watch stream: \(created) of \(watches) created, then closed or timed out") }
                pending.append(contentsOf: chunk[0..<count])
                consume(at: MonotonicClock.nanoseconds())
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    private var created = 0

    private func readHead() throws(ClientError) {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while findHeadEnd(head) == nil {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw ClientError(description: "watch head: closed or timed out") }
            head.append(contentsOf: chunk[0..<count])
        }
        let end = findHeadEnd(head)!
        let status = String(decoding: head[0..<min(end, 12)], as: UTF8.self)
        guard status.hasSuffix("200") else { throw ClientError(description: "watch answered \(status)") }
        pending = Array(head[(end + 4)...])
        consume(at: MonotonicClock.nanoseconds())
    }

    static let watchMarker = Array("{\"watch\":".utf8)
    static let eventMarker = Array("{\"revision\":".utf8)
    static let revisionField = Array(",\"revision\":".utf8)
    static let createdMarker = Array("{\"created\":".utf8)
    static let keyMarker = Array("\"key\":\"".utf8)

    /// Parses every complete line in `pending`; chunk-size lines and other kinds are skipped.
    func consume(at now: UInt64) {
        guard let lastNewline = pending.lastIndex(of: 10) else { return }
        pending.withUnsafeBufferPointer { bytes in
            var start = 0
            while start <= lastNewline {
                var end = start
                while bytes[end] != 10 { end += 1 }
                if bytes[start] == 123 /* { */ { line(bytes, start, end, at: now) }
                start = end + 1
            }
        }
        pending.removeFirst(lastNewline + 1)
    }

    /// One line `bytes[start..<end]`: an event (tagged or not) or a created confirmation.
    private func line(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, at now: UInt64) {
        var cursor = start
        var slot = 0
        if Self.has(Self.watchMarker, in: bytes, at: cursor, end: end) {
            cursor += Self.watchMarker.count
            let id = Self.number(bytes, &cursor, end: end)
            guard id >= 1, id <= Int64(watchEvents.count), Self.has(Self.revisionField, in: bytes, at: cursor, end: end) else { return }
            slot = Int(id - 1)
            cursor += Self.revisionField.count
        } else if Self.has(Self.eventMarker, in: bytes, at: cursor, end: end) {
            cursor += Self.eventMarker.count
        } else {
            if Self.has(Self.createdMarker, in: bytes, at: cursor, end: end) { created += 1 }
            return
        }
        let revision = Self.number(bytes, &cursor, end: end)
        // Events continue with ,"type":"put"|"delete"; progress lines ({"progress":{"revision":R}}) do not.
        guard cursor + 9 < end, bytes[cursor] == 44, bytes[cursor + 2] == 116 /* t */ else { return }
        let isDelete = bytes[cursor + 9] == 100 /* d */
        var id = ""
        if watchEvents.count == 1, let keyAt = Self.find(Self.keyMarker, in: bytes, from: cursor, end: end) {
            var at = keyAt + Self.keyMarker.count
            var lastSlash = at
            while at < end, bytes[at] != 34 {
                if bytes[at] == 47 { lastSlash = at + 1 }
                at += 1
            }
            id = String(decoding: UnsafeBufferPointer(rebasing: bytes[lastSlash..<at]), as: UTF8.self)
        }
        watchEvents[slot].append(SeenEvent(revision: revision, isDelete: isDelete, id: id, at: now))
    }

    private static func has(_ pattern: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, at start: Int, end: Int) -> Bool {
        guard start + pattern.count <= end else { return false }
        for offset in pattern.indices where bytes[start + offset] != pattern[offset] { return false }
        return true
    }

    private static func find(_ pattern: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from start: Int, end: Int) -> Int? {
        var index = start
        while index + pattern.count <= end {
            if has(pattern, in: bytes, at: index, end: end) { return index }
            index += 1
        }
        return nil
    }

    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ cursor: inout Int, end: Int) -> Int64 {
        var value: Int64 = 0
        while cursor < end, bytes[cursor] >= 48, bytes[cursor] <= 57 {
            value = value * 10 + Int64(bytes[cursor] - 48)
            cursor += 1
        }
        return value
    }

    func close() {
        if open { Glibc.close(fd) }
        open = false
    }
}

/// Reads `connections` until `deadline` (monotonic ns) or `stop()` returns true, stamping each event when read.
func pollWatchers(_ connections: [WatchConnection], until deadline: UInt64, stop: () -> Bool) {
    var fds = connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
    var chunk = [UInt8](repeating: 0, count: 256 * 1024)
    while MonotonicClock.nanoseconds() < deadline, !stop() {
        let ready = poll(&fds, nfds_t(fds.count), 50)
        guard ready > 0 else { continue }
        for index in fds.indices where fds[index].revents != 0 {
            fds[index].revents = 0
            let connection = connections[index]
            guard connection.open else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                connection.pending.append(contentsOf: chunk[0..<count])
                connection.consume(at: MonotonicClock.nanoseconds())
            } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                connection.close()
                fds[index].fd = -1
            }
        }
    }
}
