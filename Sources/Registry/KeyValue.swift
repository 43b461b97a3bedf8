/// One key of the key space with its MVCC bookkeeping, etcd's `mvccpb.KeyValue`.
public struct KeyValue: Equatable, Sendable {
    /// Any non-empty byte string up to `RegistryLimits.keyBytes`; instance keys are
    /// `<namespace>/<service>/<instanceID>` in UTF-8.
    public var key: [UInt8]
    public var value: [UInt8]
    /// Revision of the write that created the key (since its last deletion).
    public var createRevision: Revision
    /// Revision of the last write to the key.
    public var modRevision: Revision
    /// Number of writes since creation: 1 after the first put, reset by deletion.
    public var version: Int64
    /// The lease that deletes the key when it expires or is revoked, if any.
    public var lease: LeaseID?
    /// Whether `value` is an encoded `ServiceInstance` written by `registerInstance`/`updateInstance`.
    /// A plain put to the same key clears it, so typed reads never see a foreign value.
    public var isInstance: Bool
    /// The record's place in a framework layout pair, nil for a record outside any (see `LayoutLink`).
    public var layoutLink: LayoutLink?

    public init(
        key: [UInt8], value: [UInt8], createRevision: Revision, modRevision: Revision, version: Int64,
        lease: LeaseID? = nil, isInstance: Bool = false, layoutLink: LayoutLink? = nil
    ) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
        self.isInstance = isInstance
        self.layoutLink = layoutLink
    }

    /// The instance this record holds, if it is an instance record.
    public var instance: ServiceInstance? {
        guard isInstance else { return nil }
        // Not a silent failure: `isInstance` is only set on values this module encoded, and restore
        // refuses snapshots whose instance records do not decode, so this cannot return nil for a record
        // of a valid state.
        return try? ServiceInstance(encoded: value, limits: .permissive)
    }
}
