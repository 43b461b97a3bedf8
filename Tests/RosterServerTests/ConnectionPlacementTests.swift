// Goal: show where client connections go when I/O threads run: the Raft loop keeps the first one (a lone client's
// writes then skip the hand-offs between threads) and afterwards about one in 2N + 1, the I/O loops take the rest,
// each new one to the loop carrying the fewest, and a closed connection's place is refilled where it was freed;
// `--io-threads N` given explicitly relays every connection.
// Method: the pure placement rules (`ClientIOLoops.raftLoopTakesNext`, `leastLoaded`) driven through a sequence of
// opens and closes, and `ServerConfiguration.parse` for the switch.
@testable import RosterServer
import Testing

/// Where each connection went: -1 the Raft loop, otherwise the I/O loop's index.
private struct Placement {
    var onRaftLoop = 0
    var carried: [Int]

    init(ioLoops: Int) { carried = Array(repeating: 0, count: ioLoops) }

    mutating func open() -> Int {
        if ClientIOLoops.raftLoopTakesNext(carriedByRaftLoop: onRaftLoop, fewestOnAnIOLoop: carried.min()!) {
            onRaftLoop += 1
            return -1
        }
        let target = ClientIOLoops.leastLoaded(carried)
        carried[target] += 1
        return target
    }
}

@Suite("Client connection placement")
struct ConnectionPlacementTests {
    @Test("with two I/O loops: the Raft loop takes the 1st, 6th and 11th; the I/O loops alternate in between")
    func sequenceWithTwoLoops() {
        var placement = Placement(ioLoops: 2)
        let places = (1...11).map { _ in placement.open() }
        #expect(places == [-1, 0, 1, 0, 1, -1, 0, 1, 0, 1, -1])
    }

    @Test("many connections spread about one in 2N + 1 to the Raft loop, the rest evenly", arguments: [1, 2, 4, 8])
    func shareUnderMany(ioLoops: Int) {
        var placement = Placement(ioLoops: ioLoops)
        for _ in 0..<(1000 * (2 * ioLoops + 1)) { _ = placement.open() }
        #expect(abs(placement.onRaftLoop - 1000) <= 1)
        #expect(placement.carried.max()! - placement.carried.min()! <= 1)
    }

    @Test("a closed connection's place is taken by the next one: the Raft loop's when its own closed")
    func refillAfterClose() {
        var placement = Placement(ioLoops: 2)
        for _ in 0..<5 { _ = placement.open() }
        placement.onRaftLoop -= 1
        #expect(placement.open() == -1)
        placement.carried[1] -= 1
        #expect(placement.open() == 1)
    }

    @Test("the Raft loop shares connections under the default only; --io-threads given relays every one")
    func explicitThreadsRelayAll() throws {
        let defaulted = try ServerConfiguration.parse(arguments: ["--name", "n1"]) { _ in "" }
        #expect(defaulted.raftLoopSharesConnections)
        for threads in ["0", "2"] {
            let given = try ServerConfiguration.parse(arguments: ["--name", "n1", "--io-threads", threads]) { _ in "" }
            #expect(!given.raftLoopSharesConnections)
        }
    }
}
