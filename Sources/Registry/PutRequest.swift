/// A write of one key.
public struct PutRequest: Equatable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]
    /// Attach the key to this lease (detaching it from any other); nil detaches.
    public var lease: LeaseID?
    /// Return the key as it was before.
    public var returnPrevious: Bool
    /// Keep the key's current value (etcd's `ignore_value`): `value` must be empty and the key must exist.
    public var ignoreValue: Bool
    /// Keep the key's current lease (etcd's `ignore_lease`): `lease` must be nil and the key must exist.
    public var ignoreLease: Bool

    public init(
        key: [UInt8], value: [UInt8], lease: LeaseID? = nil, returnPrevious: Bool = false, ignoreValue: Bool = false,
        ignoreLease: Bool = false
    ) {
        self.key = key
        self.value = value
        self.lease = lease
        self.returnPrevious = returnPrevious
        self.ignoreValue = ignoreValue
        self.ignoreLease = ignoreLease
    }
}
