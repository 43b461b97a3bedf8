import Raft
import Registry
import RosterNode

/// The simulated client population: lease holders that register an instance under a lease (granting
/// it first, or in one `registerWithLease` request), renew it until they stop (then deregister or
/// just go silent), plus one-off writers, readers and watchers. It remembers what it asked, of which
/// node, and when, so each answer can be checked, and that each request is answered at most once.
struct SimClients {
    /// A service instance kept alive by keepalives on its lease.
    struct Holder {
        var serial: Int
        var ttlMilliseconds: Int64 = 0
        var lease: LeaseID?
        var isRegistered = false
        var nextRenewalAt: UInt64 = 0
        var stopsAt: UInt64 = 0
        var pending: RequestID?
        var pendingSince: UInt64 = 0
        /// The node this client talks to, until that node goes down (a client keeps its connection).
        var node: NodeID?

        var instance: InstanceName { InstanceName(namespace: "sim", service: "svc\(serial % 3)", id: "h\(serial)") }
    }

    /// Why a request was sent.
    enum Purpose {
        case grant(holder: Int)
        case register(holder: Int)
        /// Grant and registration in one request (`NodeRequest.registerWithLease`).
        case registerWithLease(holder: Int)
        case keepAlive(holder: Int, LeaseID)
        case deregister(holder: Int)
        case write
        /// `ownWrites`: the highest revision of a write the node read from had acknowledged when the read began.
        case read(mustSee: Revision, ownWrites: Revision)
        /// A linearizable read waiting for its read barrier, then answered from the node's view, as the server's I/O
        /// loops answer one (`NodeRequest.readBarrier`).
        case barrierRead(RegistryQuery, ReadOptions, mustSee: Revision, ownWrites: Revision)
        case admin
        /// The liveness phase's write.
        case marker
    }

    struct Pending {
        var purpose: Purpose
        var node: NodeID
        var sentAt: UInt64
    }

    var holders: [Holder]
    var pending: [RequestID: Pending] = [:]
    var nextRequest: UInt64 = 1
    var nextSerial: Int

    init(holders count: Int) {
        holders = (0..<count).map { Holder(serial: $0) }
        nextSerial = count
    }

    /// Whether `request` was ever sent: an answer to a sent request that no longer waits (answered,
    /// cancelled, or sent to a node that crashed since) is a second answer, which the driver never gives.
    func wasSent(_ request: RequestID) -> Bool {
        request.rawValue < nextRequest
    }

    mutating func makeRequestID() -> RequestID {
        defer { nextRequest += 1 }
        return RequestID(nextRequest)
    }

    /// A crashed node answers nothing it was asked.
    mutating func forget(node: NodeID) {
        for (request, waiting) in pending.sorted(by: { $0.key < $1.key }) where waiting.node == node {
            pending[request] = nil
            release(request, purpose: waiting.purpose)
        }
    }

    /// Frees the holder waiting on a request that will not be answered.
    mutating func release(_ request: RequestID, purpose: Purpose) {
        switch purpose {
        case .grant(let holder), .register(let holder), .registerWithLease(let holder), .keepAlive(let holder, _),
            .deregister(let holder):
            if holders[holder].pending == request { holders[holder].pending = nil }
        case .write, .read, .barrierRead, .admin, .marker:
            break
        }
    }

    /// The holder starts over as a new client: new lease, new instance.
    mutating func replace(_ holder: Int) {
        holders[holder] = Holder(serial: nextSerial)
        nextSerial += 1
    }
}
