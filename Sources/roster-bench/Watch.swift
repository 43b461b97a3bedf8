// Watch streams: many NDJSON watch connections read by a few threads with poll(2).
import Glibc

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
    var events: [SeenEvent] = []
    var open = true

    /// Connects and reads the response head; the stream's lines follow.
    init(endpoint: String, path: String) throws(ClientError) {
        fd = try connectTCP(endpoint, timeoutMilliseconds: 10_000)
        do throws(ClientError) {
            try writeAll(fd, Array("GET \(path) HTTP/1.1\r\nHost: \(endpoint)\r\n\r\n".utf8))
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
            consume(at: monotonicNanoseconds())
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    static let eventMarker = Array("{\"revision\":".utf8)
    static let keyMarker = Array("\"key\":\"".utf8)

    /// Parses every complete line in `pending` (chunk-size lines carry no marker and are skipped).
    func consume(at now: UInt64) {
        guard let lastNewline = pending.lastIndex(of: 10) else { return }
        var index = 0
        while let at = find(Self.eventMarker, in: pending, from: index), at < lastNewline {
            var cursor = at + Self.eventMarker.count
            var revision: Int64 = 0
            while cursor < pending.count, pending[cursor] >= 48, pending[cursor] <= 57 {
                revision = revision * 10 + Int64(pending[cursor] - 48)
                cursor += 1
            }
            // Events continue with ,"type":"put"|"delete"; progress lines ({"progress":{"revision":R}}) do not.
            if cursor + 9 < pending.count, pending[cursor] == 44, pending[cursor + 2] == 116 /* t */ {
                let isDelete = pending[cursor + 9] == 100 /* d */
                var id = ""
                if let keyAt = find(Self.keyMarker, in: pending, from: cursor) {
                    var end = keyAt + Self.keyMarker.count
                    var lastSlash = end
                    while end < pending.count, pending[end] != 34 {
                        if pending[end] == 47 { lastSlash = end + 1 }
                        end += 1
                    }
                    id = String(decoding: pending[lastSlash..<end], as: UTF8.self)
                }
                events.append(SeenEvent(revision: revision, isDelete: isDelete, id: id, at: now))
            }
            index = cursor
        }
        pending.removeFirst(lastNewline + 1)
    }

    func close() {
        if open { Glibc.close(fd) }
        open = false
    }
}

/// Reads `connections` until `deadline` (monotonic ns) or `stop()` returns true, stamping each event when read.
func pollWatchers(_ connections: [WatchConnection], until deadline: UInt64, stop: () -> Bool) {
    var fds = connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
    var chunk = [UInt8](repeating: 0, count: 65536)
    while monotonicNanoseconds() < deadline, !stop() {
        let ready = poll(&fds, nfds_t(fds.count), 50)
        guard ready > 0 else { continue }
        let now = monotonicNanoseconds()
        for index in fds.indices where fds[index].revents != 0 {
            fds[index].revents = 0
            let connection = connections[index]
            guard connection.open else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                connection.pending.append(contentsOf: chunk[0..<count])
                connection.consume(at: now)
            } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                connection.close()
                fds[index].fd = -1
            }
        }
    }
}
