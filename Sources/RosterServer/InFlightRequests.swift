import RosterNode

/// The node requests in flight for one gRPC call: a set of request IDs that holds its first ID inline.
///
/// Why: a unary call has at most one request in flight, yet a `Set` allocated storage and hashed the ID twice
/// per call (insert and remove), about 800 instructions of an etcd read. Only a `LeaseKeepAlive` stream, whose
/// client may send keepalives faster than they are answered, ever holds more; those go to `more`, which stays
/// empty (and unallocated) otherwise.
/// Invariant: `first` is nil only when `more` is empty, and `first` is never also in `more`.
struct InFlightRequests {
    private var first: RequestID?
    private var more: Set<RequestID> = []

    /// Whether no request is in flight.
    var isEmpty: Bool { first == nil }

    /// Adds a request ID (IDs are unique, so adding one already present does nothing new).
    mutating func insert(_ id: RequestID) {
        guard let first else {
            self.first = id
            return
        }
        if first != id { more.insert(id) }
    }

    /// Removes a request ID; returns it if it was in flight, nil otherwise.
    @discardableResult
    mutating func remove(_ id: RequestID) -> RequestID? {
        if first == id {
            first = more.popFirst()
            return id
        }
        return more.remove(id)
    }

    /// Every request ID in flight, in no particular order.
    var all: [RequestID] {
        guard let first else { return [] }
        return [first] + more
    }
}
