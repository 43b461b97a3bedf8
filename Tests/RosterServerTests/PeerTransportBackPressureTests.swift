// Goal: show that a peer which stops reading cannot grow our memory: the per-peer queue stays under its byte
// limit, the oldest non-snapshot messages are dropped (and logged once), snapshot chunks are kept, and control
// messages overtake queued chunks; and that reconnect delays back off exponentially with jitter and a cap.
// Method: the queue policy and the backoff formula are pure, so they are tested directly with values; one
// loopback test points a transport at a listener whose connections never read, and floods it.
import Posix
import Raft
import RosterNode
@testable import RosterServer
import Testing

private func frame(_ size: Int, snapshot: Bool = false, tag: UInt8 = 0) -> PeerOutboundQueue.Frame {
    PeerOutboundQueue.Frame(bytes: [UInt8](repeating: tag, count: size), isSnapshot: snapshot)
}

@Suite("Peer outbound queue")
struct PeerOutboundQueueTests {
    @Test("control frames leave before queued snapshot chunks, each lane in order")
    func controlFirst() {
        var queue = PeerOutboundQueue(limitBytes: 1000)
        _ = queue.enqueue(frame(100, snapshot: true, tag: 1))
        _ = queue.enqueue(frame(10, tag: 2))
        _ = queue.enqueue(frame(100, snapshot: true, tag: 3))
        _ = queue.enqueue(frame(10, tag: 4))
        let order = (0..<4).compactMap { _ in queue.dequeue()?.bytes.first }
        #expect(order == [2, 4, 1, 3])
        #expect(queue.isEmpty && queue.bytes == 0)
    }

    @Test("overflow evicts the oldest control frames and keeps snapshot chunks")
    func overflowEvictsOldestControl() {
        var queue = PeerOutboundQueue(limitBytes: 300)
        _ = queue.enqueue(frame(100, tag: 1))
        _ = queue.enqueue(frame(100, snapshot: true, tag: 2))
        _ = queue.enqueue(frame(100, tag: 3))
        #expect(queue.enqueue(frame(100, tag: 4)) == .queued(droppedOlder: 1))
        #expect(queue.bytes == 300)
        let order = (0..<3).compactMap { _ in queue.dequeue()?.bytes.first }
        #expect(order == [3, 4, 2])
    }

    @Test("a frame that cannot fit even after evicting every control frame is refused, losing nothing else")
    func refusedWhenSnapshotsFill() {
        var queue = PeerOutboundQueue(limitBytes: 250)
        _ = queue.enqueue(frame(100, snapshot: true, tag: 1))
        _ = queue.enqueue(frame(50, tag: 2))
        _ = queue.enqueue(frame(100, snapshot: true, tag: 3))
        #expect(queue.enqueue(frame(120, snapshot: true, tag: 4)) == .refused)
        #expect(queue.enqueue(frame(300, tag: 5)) == .refused)
        #expect(queue.count == 3 && queue.bytes == 250)
        #expect(queue.dequeue()?.bytes.first == 2)
    }

    @Test("the queue stays within its limit under a long stream of frames")
    func boundedUnderLoad() {
        var queue = PeerOutboundQueue(limitBytes: 10_000)
        var dropped = 0
        for index in 0..<5_000 {
            if case .queued(let evicted) = queue.enqueue(frame(37 + index % 200, snapshot: index % 97 == 0)) {
                dropped += evicted
            }
            #expect(queue.bytes <= 10_000)
            if index % 3 == 0 { _ = queue.dequeue() }
        }
        #expect(dropped > 0)
    }

    @Test("reconnect delays double from the initial delay up to the cap, scaled by jitter")
    func backoff() {
        let initial = Duration.milliseconds(50)
        let maximum = Duration.seconds(2)
        let delays = (0..<8).map { PeerLink.backoff(failures: $0, initial: initial, maximum: maximum, jitter: 1) }
        #expect(delays == [50, 100, 200, 400, 800, 1600, 2000, 2000].map { Duration.milliseconds($0) })
        #expect(PeerLink.backoff(failures: 1, initial: initial, maximum: maximum, jitter: 0.5) == .milliseconds(50))
        #expect(PeerLink.backoff(failures: 500, initial: initial, maximum: maximum, jitter: 1) == maximum)
    }
}

/// Accepts connections and never reads from them, like a peer process that is stuck.
///
/// `@unchecked Sendable` proof: `listener` and `connections` are touched only inside jobs on `handle`'s loop.
final class StuckPeer: @unchecked Sendable, ConnectionDelegate {
    private var listener: Listener?
    private var connections: [Connection] = []
    let handle: EventLoopHandle

    init(handle: EventLoopHandle) { self.handle = handle }

    func start() throws -> UInt16 {
        try runOnLoop(handle) { loop in
            let listener = try Listener(on: .loopback(port: 0), loop: loop) { socket, remote in
                do {
                    let connection = try Connection.adopt(socket, peer: remote, on: loop, delegate: self)
                    connection.pauseReading()
                    self.connections.append(connection)
                } catch {
                    socket.close()
                }
            }
            self.listener = listener
            return listener.localAddress.port
        }
    }

    var connectionCount: Int { (try? runOnLoop(handle) { _ in self.connections.count }) ?? 0 }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {}
}

@Suite("Peer transport back-pressure")
struct PeerTransportBackPressureTests {
    @Test("a peer that stops reading gets a bounded queue, drops logged once, and the link stays up")
    func stuckPeer() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        var options = fastOptions()
        options.outboundQueueBytes = 1 << 20
        options.sendWindowBytes = 64 << 10
        let n1 = TestPeer("n1", handle: threads[0].handle, options: options)
        let stuck = StuckPeer(handle: threads[1].handle)
        let stuckPort = try stuck.start()
        try n1.start(clusterID: 1)
        let stuckMember = Member(id: Member.id(forName: "stuck"), name: "stuck", peerAddress: "127.0.0.1:\(stuckPort)")
        try n1.update(members: [n1.member, stuckMember])
        #expect(eventually { (try? n1.with { $0.isConnected(to: stuckMember.id) }) == true })
        #expect(eventually { stuck.connectionCount == 1 })

        let (queued, statistics) = try n1.with { transport in
            let command = [UInt8](repeating: 0xAB, count: 64 << 10)
            var largest = 0
            for request in 0..<800 {  // 50 MiB: far beyond the kernel's socket buffers
                transport.send(.propose(request: UInt64(request), command: command), to: stuckMember.id)
                largest = max(largest, transport.queuedBytes(for: stuckMember.id))
            }
            return (largest, transport.statistics(for: stuckMember.id))
        }
        #expect(queued <= options.outboundQueueBytes)
        #expect((statistics?.droppedOnOverflow ?? 0) > 0)
        #expect(try n1.with { $0.isConnected(to: stuckMember.id) })
        #expect(n1.logLines.value.filter { $0.contains("send queue full") }.count == 1)
    }
}
