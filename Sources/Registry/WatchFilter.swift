/// Which keys a watch or a resync covers.
public struct WatchFilter: Hashable, Sendable {
    public var range: KeyRange

    public init(range: KeyRange) { self.range = range }

    /// One key.
    public static func key(_ key: [UInt8]) -> WatchFilter { WatchFilter(range: .key(key)) }
    /// Every key with a prefix.
    public static func prefix(_ prefix: [UInt8]) -> WatchFilter { WatchFilter(range: .prefix(prefix)) }
    /// Every instance of a service.
    public static func service(namespace: String, service: String) -> WatchFilter {
        WatchFilter(range: .prefix(InstanceName.servicePrefix(namespace: namespace, service: service)))
    }
    /// The whole key space.
    public static let all = WatchFilter(range: .prefix([]))

    /// Whether events of `key` pass the filter.
    public func matches(_ key: [UInt8]) -> Bool { range.contains(key) }
}

/// What a watcher gets when it asks for events after a revision.
public enum WatchBatch: Equatable, Sendable {
    /// Every matching event with a revision in `(after, through]`, in order. Ask again with
    /// `after: through`. No events and `through` equal to the current revision is a progress
    /// notification.
    case events([RegistryEvent], through: Revision)
    /// The requested start was compacted away, so instead of failing the watch this is the full matching
    /// state at `revision` (keys in byte order); continue with events after `revision`.
    case resync([KeyValue], revision: Revision)
}
