/// A delete of every key in a range.
public struct DeleteRangeRequest: Equatable, Sendable {
    public var range: KeyRange
    /// Return the deleted keys.
    public var returnPrevious: Bool

    public init(_ range: KeyRange, returnPrevious: Bool = false) {
        self.range = range
        self.returnPrevious = returnPrevious
    }
}
