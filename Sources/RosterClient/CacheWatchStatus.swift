import Foundation

/// Where an `InstanceCache`'s watch stands: which node it streams from and how often it was interrupted, so an
/// application can log the health of its discovery.
public struct CacheWatchStatus: Sendable, CustomStringConvertible {
    /// The node the watch streams from now; nil while the cache lists the service or looks for a node.
    public var node: Endpoint?
    /// When the watch reached `node`, or, without one, when it lost the last one (or started).
    public var since: Date
    /// How many times the watch was interrupted (a node died, went silent or lost its leader; the list failed; the
    /// cache fell behind and listed again).
    public var interruptions: Int
    /// The error of the last interruption.
    public var lastError: RosterClientError?

    /// `watching 127.0.0.1:2379 since …, 2 interruptions` or `not watching since …: <error>`.
    public var description: String {
        let count = "\(interruptions) interruption\(interruptions == 1 ? "" : "s")"
        if let node { return "watching \(node) since \(since.ISO8601Format()), \(count)" }
        let cause = lastError.map { ": \($0)" } ?? ""
        return "not watching since \(since.ISO8601Format()), \(count)\(cause)"
    }
}

/// A change of an `InstanceCache`'s watch (see `InstanceCache.watchEvents`).
public enum CacheWatchEvent: Sendable, CustomStringConvertible {
    /// The watch streams from `node`, delivering changes from `fromRevision` on.
    case watching(node: Endpoint, fromRevision: Int64)
    /// The watch lost `node` (nil when it had none, as when the first list fails); the cache keeps its last list,
    /// marked stale, and resumes on another node. Repeated failures while without a node are not reported again.
    case interrupted(node: Endpoint?, error: RosterClientError)

    /// One line such as `watching 127.0.0.1:2379 from revision 42`.
    public var description: String {
        switch self {
        case .watching(let node, let revision): "watching \(node) from revision \(revision)"
        case .interrupted(let node, let error): "watch on \(node.map(\.description) ?? "no node") interrupted: \(error)"
        }
    }
}

extension InstanceChange: CustomStringConvertible {
    /// One line such as `added default/orders/o1 incarnation 3`.
    public var description: String {
        switch self {
        case .added(let instance): "added \(instance.summary)"
        case .updated(let instance): "updated \(instance.summary)"
        case .removed(let instance): "removed \(instance.summary)"
        }
    }
}

extension CacheSnapshot: CustomStringConvertible {
    /// One line such as `3 instances at revision 42 (stale since …): a, b, c`.
    public var description: String {
        guard isReady else { return "no list yet" }
        let stale = staleSince.map { " (stale since \($0.ISO8601Format()))" } ?? ""
        var names = instances.prefix(10).map(\.id).joined(separator: ", ")
        if instances.count > 10 { names += ", and \(instances.count - 10) more" }
        let noun = instances.count == 1 ? "instance" : "instances"
        return "\(instances.count) \(noun) at revision \(revision)\(stale)\(names.isEmpty ? "" : ": \(names)")"
    }
}
