/// A set of keys: one key, a prefix, a half-open interval or everything from a key on.
///
/// Ranges are explicit cases rather than etcd's `range_end` conventions (`"\0"`, prefix + 1), so that a
/// request says what it means.
public enum KeyRange: Hashable, Sendable {
    /// Exactly one key.
    case key([UInt8])
    /// Every key that starts with these bytes; the empty prefix is the whole key space.
    case prefix([UInt8])
    /// Every key `k` with `start <= k < end`. An end before the start is rejected; equal bounds are empty.
    case interval(start: [UInt8], end: [UInt8])
    /// Every key greater than or equal to this one.
    case fromKey([UInt8])

    /// The first byte of the keys Roster keeps for itself (the member directory). No instance key can
    /// start with it: registry names exclude control bytes.
    public static let systemKeyByte: UInt8 = 0x01

    /// Whether `key` is one of Roster's own keys.
    public static func isSystemKey(_ key: [UInt8]) -> Bool { key.first == systemKeyByte }

    /// Whether `key` is in the range.
    ///
    /// System keys belong only to ranges that start among them: a scan of the whole key space (`prefix ""`,
    /// `from_key ""`, an interval from "") shows and deletes the users' keys, never the member directory,
    /// whose loss would leave nodes unable to reach members added at run time.
    public func contains(_ key: [UInt8]) -> Bool {
        if Self.isSystemKey(key) && !Self.isSystemKey(lowerBound) { return false }
        switch self {
        case .key(let only): return key == only
        case .prefix(let prefix): return hasBytePrefix(key, prefix)
        case .interval(let start, let end): return compareBytes(key, start) >= 0 && compareBytes(key, end) < 0
        case .fromKey(let start): return compareBytes(key, start) >= 0
        }
    }

    /// The smallest key the range can contain, where a scan starts.
    public var lowerBound: [UInt8] {
        switch self {
        case .key(let key), .prefix(let key), .fromKey(let key): return key
        case .interval(let start, _): return start
        }
    }

    /// Whether a scan in key order can stop at `key` (no later key can be in the range).
    func isPast(_ key: [UInt8]) -> Bool {
        switch self {
        case .key(let only): return compareBytes(key, only) > 0
        case .prefix(let prefix): return !hasBytePrefix(key, prefix) && compareBytes(key, prefix) > 0
        case .interval(_, let end): return compareBytes(key, end) >= 0
        case .fromKey: return false
        }
    }

    /// The rejection for a malformed range, if any.
    public func validate(limits: RegistryLimits) -> RegistryRejection? {
        switch self {
        case .key(let key):
            if key.isEmpty { return .emptyKey }
            if key.count > limits.keyBytes { return .keyTooLong(bytes: key.count, limit: limits.keyBytes) }
        case .prefix(let key), .fromKey(let key):
            if key.count > limits.keyBytes { return .keyTooLong(bytes: key.count, limit: limits.keyBytes) }
        case .interval(let start, let end):
            if start.count > limits.keyBytes { return .keyTooLong(bytes: start.count, limit: limits.keyBytes) }
            if end.count > limits.keyBytes { return .keyTooLong(bytes: end.count, limit: limits.keyBytes) }
            if compareBytes(end, start) < 0 { return .invalidRange(start: start, end: end) }
        }
        return nil
    }

    /// Bytes the range adds to a request.
    var payloadBytes: Int {
        switch self {
        case .key(let key), .prefix(let key), .fromKey(let key): return key.count
        case .interval(let start, let end): return start.count + end.count
        }
    }
}

/// Whether `key` begins with `prefix`. `Sequence.starts(with:)` walks both arrays element by element through
/// generic iterators (callgrind: 140 instructions per key of a service listing, 5 % of a 100-instance read), and
/// every range scan and layout lookup asks this of each key.
@inline(__always)
func hasBytePrefix(_ key: [UInt8], _ prefix: [UInt8]) -> Bool {
    guard key.count >= prefix.count else { return false }
    return key.withUnsafeBytes { left in
        prefix.withUnsafeBytes { right in orderOfLeadingBytes(left, right, count: right.count) == 0 }
    }
}

/// Lexicographic byte order, the order of etcd's key space: negative, zero or positive.
///
/// Registry keys share long prefixes (`<namespace>/<service>/`) and this comparison is the inner loop of every
/// index insert and range scan.
@inline(__always)
func compareBytes(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
    lhs.withUnsafeBytes { left in
        rhs.withUnsafeBytes { right in
            let order = orderOfLeadingBytes(left, right, count: min(left.count, right.count))
            if order != 0 { return order }
            return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
        }
    }
}

/// The byte order of the first `count` bytes of `left` and `right` (both hold at least that many): negative, zero
/// or positive. Eight bytes at a time, as big-endian words, which order like their bytes.
@inline(__always)
private func orderOfLeadingBytes(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer, count: Int) -> Int {
    var position = 0
    while position + 8 <= count {
        let a = UInt64(bigEndian: left.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        let b = UInt64(bigEndian: right.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        if a != b { return a < b ? -1 : 1 }
        position += 8
    }
    while position < count {
        let a = left[position]
        let b = right[position]
        if a != b { return a < b ? -1 : 1 }
        position += 1
    }
    return 0
}
