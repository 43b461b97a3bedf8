/// What a role may do on a set of keys (etcd's `Permission`: READ, WRITE or READWRITE on a key, an interval
/// or a prefix).
public struct AuthPermission: Hashable, Sendable {
    /// The kinds of access a permission grants.
    public enum Access: UInt8, Hashable, Sendable, CaseIterable {
        case read = 0
        case write = 1
        case readWrite = 2

        /// Whether this grant allows `needed` (`readWrite` allows both).
        public func allows(_ needed: Access) -> Bool {
            self == .readWrite || self == needed
        }
    }

    public var access: Access
    /// The keys covered. A service is its key prefix `<namespace>/<service>/`.
    public var range: KeyRange

    public init(_ access: Access, _ range: KeyRange) {
        self.access = access
        self.range = range
    }

    /// The order a role lists its permissions in: by first key, then by end (etcd sorts by key, so listings
    /// match etcdctl's).
    static func precedes(_ lhs: AuthPermission, _ rhs: AuthPermission) -> Bool {
        let order = compareBytes(lhs.range.lowerBound, rhs.range.lowerBound)
        if order != 0 { return order < 0 }
        switch (KeyInterval(lhs.range).end, KeyInterval(rhs.range).end) {
        case (let left?, let right?): return compareBytes(left, right) < 0
        case (.some, nil): return true
        default: return false
        }
    }
}

/// A half-open interval of keys `[start, end)`, with no end for "every key from `start` on": the form in
/// which permissions and requested ranges are compared.
struct KeyInterval: Equatable {
    var start: [UInt8]
    /// Nil means unbounded.
    var end: [UInt8]?

    /// The interval a range covers. An empty interval (`end <= start`) is treated as the point `start`, so
    /// that an empty request still needs a permission near the keys it names.
    init(_ range: KeyRange) {
        switch range {
        case .key(let key):
            start = key
            end = key + [0]
        case .prefix(let prefix):
            start = prefix
            end = Self.prefixEnd(prefix)
        case .interval(let lower, let upper):
            start = lower
            end = compareBytes(upper, lower) > 0 ? upper : lower + [0]
        case .fromKey(let key):
            start = key
            end = nil
        }
    }

    /// The first key after every key that starts with `prefix`; nil when there is none (empty or all 0xff).
    static func prefixEnd(_ prefix: [UInt8]) -> [UInt8]? {
        var end = prefix
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return nil
    }

    /// Whether the union of `intervals` covers this interval (etcd checks a request against the union of a
    /// user's permissions, not against each one alone).
    /// - Complexity: O(n log n) in the number of intervals.
    func isCovered(by intervals: [KeyInterval]) -> Bool {
        var cursor = start
        for interval in intervals.sorted(by: { compareBytes($0.start, $1.start) < 0 }) {
            if compareBytes(interval.start, cursor) > 0 { return false }
            guard let reach = interval.end else { return true }
            if compareBytes(reach, cursor) > 0 { cursor = reach }
            if let end, compareBytes(cursor, end) >= 0 { return true }
        }
        return false
    }
}
