// Goal: show how relayed client connections spread over the I/O loops (each new one to the loop carrying the fewest,
// the first of them on a tie, so closed connections' places are refilled where they were freed), and that the Raft
// loop keeps a connection of its own only under the default number of I/O threads: `--io-threads N` given relays
// every connection.
// Method: the pure `ClientIOLoops.leastLoaded` over sequences of opens and closes; `ServerConfiguration.parse`.
@testable import RosterServer
import Testing

@Suite("Client connection placement")
struct ConnectionPlacementTests {
    @Test("new connections alternate over equally loaded I/O loops and stay within one of each other", arguments: [1, 2, 3, 8])
    func spreadsEvenly(ioLoops: Int) {
        var carried = Array(repeating: 0, count: ioLoops)
        var places: [Int] = []
        for _ in 0..<(10 * ioLoops) {
            let target = ClientIOLoops.leastLoaded(carried)
            carried[target] += 1
            places.append(target)
        }
        #expect(Array(places.prefix(ioLoops)) == Array(0..<ioLoops))
        #expect(carried == Array(repeating: 10, count: ioLoops))
    }

    @Test("a closed connection's place is refilled on the loop it left")
    func refillsWhereFreed() {
        var carried = [3, 3, 3]
        carried[1] -= 2
        #expect(ClientIOLoops.leastLoaded(carried) == 1)
        carried[1] += 1
        #expect(ClientIOLoops.leastLoaded(carried) == 1)
        carried[1] += 1
        carried[2] -= 1
        #expect(ClientIOLoops.leastLoaded(carried) == 2)
    }

    @Test("the Raft loop keeps a connection under the default only; --io-threads given relays every one")
    func explicitThreadsRelayAll() throws {
        let defaulted = try ServerConfiguration.parse(arguments: ["--name", "n1"]) { _ in "" }
        #expect(defaulted.raftLoopKeepsAConnection)
        for threads in ["0", "2"] {
            let given = try ServerConfiguration.parse(arguments: ["--name", "n1", "--io-threads", threads]) { _ in "" }
            #expect(!given.raftLoopKeepsAConnection)
        }
    }
}
