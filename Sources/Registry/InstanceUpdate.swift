/// A partial change of a live instance; nil fields stay as they are.
public struct InstanceUpdate: Equatable, Sendable {
    public var name: InstanceName
    /// Must equal the live record's incarnation: an update from a stale or a newer process is refused.
    /// Nil updates whatever incarnation is live (an operator draining or re-weighting by hand).
    public var incarnation: UInt64?
    public var status: InstanceStatus?
    /// Replaces the whole map (not merged), so that removing a label is possible.
    public var metadata: [String: String]?
    public var weight: UInt32?

    public init(
        name: InstanceName, incarnation: UInt64?, status: InstanceStatus? = nil, metadata: [String: String]? = nil,
        weight: UInt32? = nil
    ) {
        self.name = name
        self.incarnation = incarnation
        self.status = status
        self.metadata = metadata
        self.weight = weight
    }
}
