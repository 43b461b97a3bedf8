// Goal: show that the peer transport carries Raft messages and forwards between members over real loopback
// TCP, heals after a peer restarts, reports broken peers, and survives hostile or broken bytes: each bad input
// costs only the offending connection, and the transport keeps delivering from honest peers afterwards.
// Method: transports on event loop threads (see TransportTestSupport), listeners bound to port 0 first and the
// member list built from the bound ports; hostile input is written by raw `Connection`s from a separate loop;
// outcomes are awaited by polling against a deadline.
import Codec
import Posix
import Raft
import RosterNode
@testable import RosterServer
import Testing
import Wire

private let clusterID: UInt64 = 0xC0FFEE

@Suite("Peer transport over loopback")
struct PeerTransportTests {
    @Test("three members on separate loops exchange raft messages and forwards")
    func threeMembersExchange() throws {
        let threads = try (0..<3).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let peers = ["n1", "n2", "n3"].enumerated().map { TestPeer($1, handle: threads[$0].handle) }
        try connectAll(peers, clusterID: clusterID)
        for sender in peers {
            for receiver in peers where receiver !== sender {
                try sender.send(sender.heartbeat(to: receiver, round: 7))
            }
        }
        for peer in peers {
            #expect(eventually { peer.messages.value.count == 2 })
            #expect(peer.messages.value.allSatisfy { $0.to == peer.id && $0.from != peer.id })
        }
        let (n1, n2) = (peers[0], peers[1])
        try n2.with { $0.send(.propose(request: 5, command: [1, 2, 3]), to: n1.id) }
        try n1.with { $0.send(.proposed(request: 5, outcome: .accepted(index: LogIndex(9), term: Term(2))), to: n2.id) }
        #expect(eventually { n1.forwards.value == ["\(n2.id):\(ForwardMessage.propose(request: 5, command: [1, 2, 3]))"] })
        #expect(eventually { n2.forwards.value.count == 1 })
        #expect(n1.ups.value.count == 2)
    }

    @Test("forwards and Raft messages sent as one batch arrive whole and in order, large ones included")
    func batchedForwards() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let peers = ["n1", "n2"].enumerated().map { TestPeer($1, handle: threads[$0].handle) }
        try connectAll(peers, clusterID: clusterID)
        let (n1, n2) = (peers[0], peers[1])
        // 300 forwards, some of 100 kB, so the batch is split into several writes.
        var batch: [ForwardMessage] = []
        for request in 0..<300 {
            let size = request % 50 == 0 ? 100_000 : 40
            // A propose carries a command's encoding, which starts with its format version (1), never with the
            // byte that marks a whole registration (`ForwardMessage.registerWithLease`).
            let command = [1] + [UInt8](repeating: UInt8(request % 251), count: size - 1)
            batch.append(.propose(request: UInt64(request), command: command))
        }
        let forwards = batch
        let messages = (0..<20).map { n2.heartbeat(to: n1, round: UInt64($0)) }
        let target = n1.id
        try n2.with { $0.send(forwards: forwards.map { ($0, target) }, messages: messages) }
        #expect(eventually { n1.forwards.value.count == forwards.count && n1.messages.value.count == messages.count })
        #expect(n1.forwards.value == forwards.map { "\(n2.id):\($0)" })
        #expect(n1.messages.value == messages)
    }

    @Test("members sharing one loop exchange messages")
    func sharedLoop() throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let peers = ["a", "b", "c"].map { TestPeer($0, handle: thread.handle) }
        try connectAll(peers, clusterID: clusterID)
        try peers[0].send(peers[0].heartbeat(to: peers[2]))
        try peers[2].send(peers[2].heartbeat(to: peers[0]))
        #expect(eventually { peers[2].messages.value.count == 1 && peers[0].messages.value.count == 1 })
    }

    @Test("a restarted peer is reconnected and receives again")
    func restartReconnects() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let n1 = TestPeer("n1", handle: threads[0].handle)
        let n2 = TestPeer("n2", handle: threads[1].handle)
        try connectAll([n1, n2], clusterID: clusterID)
        let members = [n1.member, n2.member]
        try n2.stop()
        #expect(eventually { n1.downs.value.contains(n2.id) })
        #expect(eventually { !n1.isConnected(to: n2) })

        let restarted = TestPeer("n2", handle: threads[1].handle)
        try restarted.start(port: members[1].peerAddressPort, clusterID: clusterID)
        try restarted.update(members: members)
        #expect(eventually { n1.isConnected(to: restarted) })
        try n1.send(n1.heartbeat(to: restarted, round: 3))
        #expect(eventually { restarted.messages.value.count == 1 })
        #expect(try n1.with { $0.statistics(for: n2.id)?.connects } ?? 0 >= 2)
    }

    @Test("onPeerDown fires on both sides when a peer's process side closes")
    func peerDownOnClose() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let n1 = TestPeer("n1", handle: threads[0].handle)
        let n2 = TestPeer("n2", handle: threads[1].handle)
        try connectAll([n1, n2], clusterID: clusterID)
        #expect(n1.downs.value.isEmpty)
        // An inbound connection is anonymous until its first frame names the sender.
        try n2.send(n2.heartbeat(to: n1))
        #expect(eventually { n1.messages.value.count == 1 })
        try n2.stop()
        // n1 loses both its outbound connection to n2 and the inbound one from n2.
        #expect(eventually { n1.downs.value.count == 2 })
        #expect(n1.downs.value.allSatisfy { $0 == n2.id })
        #expect(n2.downs.value.isEmpty, "a closed transport reports nothing")
    }

    @Test("an outbound connection names its sender with a hello at once, before any message")
    func helloIdentifiesAtConnect() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let n1 = TestPeer("n1", handle: threads[0].handle)
        let n2 = TestPeer("n2", handle: threads[1].handle)
        try connectAll([n1, n2], clusterID: clusterID)
        // n2 never sends a message, yet n1 knows its inbound connection is n2's: it reports that one
        // down too (an anonymous connection would not be reported), and delivered no message for the hello.
        try n2.stop()
        #expect(eventually { n1.downs.value.count == 2 })
        #expect(n1.downs.value.allSatisfy { $0 == n2.id })
        #expect(n1.messages.value.isEmpty && n1.forwards.value.isEmpty)
    }

    @Test("messages to an unreachable peer are dropped and counted")
    func unreachableDrops() throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let n1 = TestPeer("n1", handle: thread.handle)
        try n1.start(clusterID: clusterID)
        let ghost = Member(id: Member.id(forName: "ghost"), name: "ghost", peerAddress: "127.0.0.1:1")
        try n1.update(members: [n1.member, ghost])
        let message = Message(from: n1.id, to: ghost.id, term: Term(1), body: .timeoutNow)
        try n1.send(message)
        let stray = Message(from: n1.id, to: Member.id(forName: "nobody"), term: Term(1), body: .timeoutNow)
        try n1.send(stray)
        #expect(try n1.with { $0.statistics(for: ghost.id)?.droppedWhileDisconnected } == 1)
        #expect(try n1.with { $0.statistics.droppedUnknownPeer } == 1)
    }

    @Test("a removed member is disconnected and its frames are refused")
    func removedMember() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let n1 = TestPeer("n1", handle: threads[0].handle)
        let n2 = TestPeer("n2", handle: threads[1].handle)
        try connectAll([n1, n2], clusterID: clusterID)
        try n1.update(members: [n1.member])
        #expect(!n1.isConnected(to: n2))
        #expect(try n1.with { $0.statistics(for: n2.id) } == nil)
        // n2 still knows n1 and redials; its connection is refused at the first frame it sends.
        #expect(eventually { n2.isConnected(to: n1) })
        #expect(eventually {
            try? n2.send(n2.heartbeat(to: n1))
            return ((try? n1.with { $0.statistics.rejectedConnections }) ?? 0) >= 1
        })
        #expect(n1.messages.value.isEmpty)
    }
}

extension PeerTransportTests {
    @Test("a member whose address changes is redialed at the new address")
    func addressChange() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let n1 = TestPeer("n1", handle: threads[0].handle)
        let n2 = TestPeer("n2", handle: threads[1].handle)
        try connectAll([n1, n2], clusterID: clusterID)
        try n2.stop()
        let moved = TestPeer("n2", handle: threads[1].handle)
        try moved.start(clusterID: clusterID)
        try n1.update(members: [n1.member, moved.member])
        try moved.update(members: [n1.member, moved.member])
        #expect(eventually { n1.isConnected(to: moved) })
        try n1.send(n1.heartbeat(to: moved))
        #expect(eventually { moved.messages.value.count == 1 })
    }

    @Test("a 1 MiB snapshot chunk and the heartbeats around it all arrive")
    func largeSnapshotChunk() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let n1 = TestPeer("n1", handle: threads[0].handle)
        let n2 = TestPeer("n2", handle: threads[1].handle)
        try connectAll([n1, n2], clusterID: clusterID)
        let metadata = SnapshotMetadata(index: LogIndex(10), term: Term(1),
                                        configuration: Raft.Configuration(voters: [n1.id, n2.id]))
        let data = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let chunk = Message(from: n1.id, to: n2.id, term: Term(1),
                            body: .snapshotChunk(SnapshotChunk(metadata: metadata, totalBytes: UInt64(data.count),
                                                               offset: 0, data: data)))
        try n1.with { transport in
            transport.send(n1.heartbeat(to: n2, round: 1))
            transport.send(chunk)
            transport.send(n1.heartbeat(to: n2, round: 2))
        }
        #expect(eventually { n2.messages.value.count == 3 })
        #expect(n2.messages.value.contains(chunk))
        #expect(try n1.with { $0.statistics(for: n2.id)?.droppedOnOverflow } == 0)
    }
}

extension Member {
    /// The port of a loopback test member's peer address.
    var peerAddressPort: UInt16 { SocketAddress(peerAddress)?.port ?? 0 }
}

/// A bad input, and the bytes that carry it.
struct HostileInput: CustomTestStringConvertible, Sendable {
    let testDescription: String
    let bytes: @Sendable (_ honest: NodeID, _ target: NodeID) -> [UInt8]
}

private let heartbeatPayload: @Sendable (NodeID, NodeID) -> [UInt8] = { from, to in
    var writer = ByteWriter()
    writer.write(Message(from: from, to: to, term: Term(1), body: .heartbeat(commit: LogIndex(0), readRound: 0)))
    return writer.bytes
}

private let hostileInputs: [HostileInput] = [
    HostileInput(testDescription: "a frame with the wrong cluster ID") { honest, target in
        PeerFrame(kind: .raft, clusterID: clusterID &+ 1, senderID: honest.rawValue,
                  payload: heartbeatPayload(honest, target)).encoded()
    },
    HostileInput(testDescription: "a frame from an unknown sender") { _, target in
        let intruder = Member.id(forName: "intruder")
        return raftFrame(Message(from: intruder, to: target, term: Term(1), body: .timeoutNow),
                         clusterID: clusterID, sender: intruder)
    },
    HostileInput(testDescription: "garbage bytes") { _, _ in Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8) },
    HostileInput(testDescription: "an oversized length") { honest, target in
        var bytes = raftFrame(Message(from: honest, to: target, term: Term(1), body: .timeoutNow),
                              clusterID: clusterID, sender: honest)
        for offset in 22..<26 { bytes[offset] = 0xFF }
        return bytes
    },
    HostileInput(testDescription: "a payload that fails its checksum") { honest, target in
        var bytes = raftFrame(Message(from: honest, to: target, term: Term(1), body: .timeoutNow),
                              clusterID: clusterID, sender: honest)
        bytes[bytes.count - 1] ^= 0xFF
        return bytes
    },
    HostileInput(testDescription: "a raft payload that does not decode") { honest, _ in
        PeerFrame(kind: .raft, clusterID: clusterID, senderID: honest.rawValue, payload: [0xFF, 0xFF, 0xFF]).encoded()
    },
    HostileInput(testDescription: "a forward payload that does not decode") { honest, _ in
        PeerFrame(kind: .forward, clusterID: clusterID, senderID: honest.rawValue, payload: [0x77]).encoded()
    },
    HostileInput(testDescription: "a connection that changes its sender") { honest, target in
        let other = Member.id(forName: "n3")
        return raftFrame(Message(from: honest, to: target, term: Term(1), body: .timeoutNow),
                         clusterID: clusterID, sender: honest)
            + raftFrame(Message(from: other, to: target, term: Term(1), body: .timeoutNow),
                        clusterID: clusterID, sender: other)
    },
]

@Suite("Peer transport refuses bad bytes")
struct PeerTransportHostileTests {
    @Test("the offending connection is dropped and the transport keeps working", arguments: hostileInputs)
    func hostileInput(_ input: HostileInput) throws {
        let threads = try (0..<3).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let n1 = TestPeer("n1", handle: threads[0].handle)
        let n2 = TestPeer("n2", handle: threads[1].handle)
        let n3 = TestPeer("n3", handle: threads[1].handle)
        try connectAll([n1, n2, n3], clusterID: clusterID)
        let closed = try sendRaw(input.bytes(n2.id, n1.id), to: n1.port, from: threads[2].handle)
        #expect(eventually { closed.value != nil }, "n1 should close the hostile connection")
        // The count is read on n1's loop; wait for it rather than assume it is visible the moment the client
        // sees the close (failed once under stress --cpu 2 without saying the value).
        var rejected = 0
        #expect(eventually {
            rejected = (try? n1.with { $0.statistics.rejectedConnections }) ?? 0
            return rejected >= 1
        })
        #expect(rejected == 1, "rejected connections: \(rejected); the client saw \(String(describing: closed.value))")
        try n2.send(n2.heartbeat(to: n1, round: 42))
        #expect(eventually { n1.messages.value.contains { $0.body == .heartbeat(commit: LogIndex(0), readRound: 42) } })
        #expect(n1.logLines.value.contains { $0.contains("WARN n1") })
    }

    @Test("a misaddressed raft message is dropped but its connection stays open")
    func misaddressed() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let n1 = TestPeer("n1", handle: threads[0].handle)
        let n2 = TestPeer("n2", handle: threads[0].handle)
        try connectAll([n1, n2], clusterID: clusterID)
        let n3 = Member.id(forName: "n3")
        let bytes = raftFrame(Message(from: n3, to: n1.id, term: Term(1), body: .timeoutNow), clusterID: clusterID,
                              sender: n2.id)
            + raftFrame(Message(from: n2.id, to: n3, term: Term(1), body: .timeoutNow), clusterID: clusterID,
                        sender: n2.id)
            + raftFrame(n2.heartbeat(to: n1, round: 9), clusterID: clusterID, sender: n2.id)
        let closed = try sendRaw(bytes, to: n1.port, from: threads[1].handle)
        #expect(eventually { n1.messages.value.count == 1 })
        #expect(try n1.with { $0.statistics.droppedMisaddressed } == 2)
        #expect(closed.value == nil)
    }

    @Test("a connection that never sends a frame is closed after the handshake timeout")
    func handshakeTimeout() throws {
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        var options = fastOptions()
        options.handshakeTimeout = .milliseconds(50)
        let n1 = TestPeer("n1", handle: threads[0].handle, options: options)
        try n1.start(clusterID: clusterID)
        let closed = try sendRaw([], to: n1.port, from: threads[1].handle)
        #expect(eventually { closed.value != nil })
        #expect(eventually { (try? n1.with { $0.inboundConnectionCount }) == 0 })
    }
}
