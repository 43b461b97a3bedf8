import Codec
import Raft
import RosterNode
import Wire

/// A network that delays, reorders, drops, duplicates and partitions messages, deterministically.
///
/// Partitions are a set of directed links that drop everything: a symmetric split cuts both ways
/// between two groups, an asymmetric fault cuts one direction, and a bridge isolates two nodes from
/// each other while both still reach a third.
///
/// Every message crosses the network as the bytes of its wire encoding, so the peer codec is
/// exercised on every hop of every simulated run. Raft messages and the node's forwarded work
/// (`ForwardMessage`: writes, keepalives and their answers) share the links and their faults.
struct SimNetwork {
    struct InFlight {
        var deliverAt: Int
        var sequence: Int
        var bytes: [UInt8]
        /// Set for forwarded work, which does not carry its own addresses.
        var forward: Link?
    }

    /// A message taken off the network.
    enum Delivery {
        case raft(Message)
        case forward(ForwardMessage, Link)

        var to: NodeID {
            switch self {
            case .raft(let message): message.to
            case .forward(_, let link): link.to
            }
        }
    }

    private(set) var queue: [InFlight] = []
    private var sequence = 0
    private(set) var blockedLinks: Set<Link> = []
    var dropPercent: Int
    var duplicatePercent: Int
    var maxDelayUnits: Int

    struct Link: Hashable, Comparable, CustomStringConvertible {
        var from: NodeID
        var to: NodeID
        static func < (lhs: Link, rhs: Link) -> Bool { (lhs.from, lhs.to) < (rhs.from, rhs.to) }
        var description: String { "\(from)->\(to)" }
    }

    init(dropPercent: Int, duplicatePercent: Int, maxDelayUnits: Int) {
        self.dropPercent = dropPercent
        self.duplicatePercent = duplicatePercent
        self.maxDelayUnits = maxDelayUnits
    }

    mutating func send(_ message: Message, now: Int, random: inout SplitMix64) {
        var writer = ByteWriter()
        writer.write(message)
        send(writer.bytes, link: Link(from: message.from, to: message.to), forward: false, now: now, random: &random)
    }

    mutating func send(_ forward: ForwardMessage, link: Link, now: Int, random: inout SplitMix64) {
        send(forward.encoded(), link: link, forward: true, now: now, random: &random)
    }

    private mutating func send(_ bytes: [UInt8], link: Link, forward: Bool, now: Int, random: inout SplitMix64) {
        if blockedLinks.contains(link) { return }
        if Int(random.next() % 100) < dropPercent { return }
        let copies = Int(random.next() % 100) < duplicatePercent ? 2 : 1
        for _ in 0..<copies {
            let delay = 1 + Int(random.next() % UInt64(maxDelayUnits))
            sequence += 1
            queue.append(InFlight(deliverAt: now + delay, sequence: sequence, bytes: bytes, forward: forward ? link : nil))
        }
    }

    /// Removes and returns the messages due at `now`, in send order among equal times.
    mutating func due(now: Int) -> [Delivery] {
        guard queue.contains(where: { $0.deliverAt <= now }) else { return [] }
        let ready = queue.filter { $0.deliverAt <= now }.sorted { ($0.deliverAt, $0.sequence) < ($1.deliverAt, $1.sequence) }
        queue.removeAll { $0.deliverAt <= now }
        return ready.map { inFlight in
            do {
                if let link = inFlight.forward {
                    return .forward(try ForwardMessage.decode(inFlight.bytes, maxCommandBytes: 1 << 20), link)
                }
                var reader = ByteReader(inFlight.bytes)
                let message = try reader.readMessage()
                try reader.expectEnd()
                return .raft(message)
            } catch {
                preconditionFailure("a message the node encoded does not decode: \(error)")
            }
        }
    }

    mutating func isolate(_ group: [NodeID], from others: [NodeID]) {
        for a in group {
            for b in others {
                blockedLinks.insert(Link(from: a, to: b))
                blockedLinks.insert(Link(from: b, to: a))
            }
        }
    }

    mutating func block(_ link: Link) {
        blockedLinks.insert(link)
    }

    mutating func heal() {
        blockedLinks.removeAll()
    }

    /// Stops losing and duplicating messages; used for the liveness phase.
    mutating func calm() {
        dropPercent = 0
        duplicatePercent = 0
        maxDelayUnits = min(maxDelayUnits, 3)
    }
}
