import Raft

/// The simulated members by ID, stored in an array so that reading one field of a node does not copy
/// the whole node (its driver holds the registry and the Raft log); a dictionary's getter would.
struct SimNodes {
    private(set) var all: [SimNode] = []
    /// `all[i].id`, searched linearly: at most eight members, cheaper than hashing.
    private var ids: [NodeID] = []

    var count: Int { all.count }

    func contains(_ id: NodeID) -> Bool { ids.contains(id) }

    subscript(id: NodeID) -> SimNode {
        _read { yield all[ids.firstIndex(of: id)!] }
        _modify { yield &all[ids.firstIndex(of: id)!] }
    }

    mutating func append(_ node: SimNode) {
        precondition(!ids.contains(node.id), "node \(node.id) added twice")
        ids.append(node.id)
        all.append(node)
    }
}
