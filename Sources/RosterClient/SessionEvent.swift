import Foundation

/// Something a registration session reports, in order, so the application can log it or alert on it.
///
/// Every write the session makes on its own (a repair, a re-registration, an incarnation bump) is reported with the
/// instances it wrote, so a log explains every change of incarnation. `failing` means the cluster cannot be reached
/// or refuses the renewals; it is never emitted for a shutdown the application asked for (`close`, `drain`).
/// `description` is one short line, for `print(event)` and logs.
public enum SessionEvent: Sendable {
    /// The session holds a new lease.
    case leaseGranted(LeaseID, ttlMilliseconds: Int64)
    /// An instance is registered (first time, or after an update of its description).
    case registered(ServiceInstance)
    /// The cluster no longer knows the lease (it expired during an outage, or was revoked).
    case leaseLost(LeaseID)
    /// Every instance was registered again on a new lease with a higher incarnation.
    case reregistered([ServiceInstance], lease: LeaseID)
    /// These instances had vanished from the cluster while the lease was alive (deleted out of band), and the
    /// session registered them again with a higher incarnation.
    case repaired([ServiceInstance], lease: LeaseID)
    /// Keepalives have been failing since `since`; the session keeps trying and re-registers once it can.
    case failing(since: Date, error: RosterClientError)
    /// Keepalives work again after failing.
    case recovered(after: Duration)
    /// A newer incarnation of this instance is registered elsewhere; the session stops maintaining it.
    case superseded(ServiceInstance)
    /// These instances are marked draining (`drain`): consumers stop sending them new work.
    case draining([ServiceInstance])
    /// An instance was removed on request.
    case deregistered(ServiceInstance)
    /// `close` could not revoke the lease (the cluster was unreachable); it expires by itself within its TTL, and
    /// with it every instance still attached.
    case leaseNotRevoked(LeaseID, error: RosterClientError)
    /// The session was closed; nothing is maintained any more.
    case closed
}

extension SessionEvent: CustomStringConvertible {
    /// One line such as `repaired 1 instance on lease 7: default/orders/o1 incarnation 6`.
    public var description: String {
        switch self {
        case .leaseGranted(let lease, let ttl): "lease \(lease) granted (ttl \(ttl) ms)"
        case .registered(let instance): "registered \(instance.summary)"
        case .leaseLost(let lease): "lease \(lease) lost"
        case .reregistered(let instances, let lease): "re-registered \(Self.list(instances)) on lease \(lease)"
        case .repaired(let instances, let lease): "repaired \(Self.list(instances)) on lease \(lease)"
        case .failing(let since, let error): "failing since \(since.ISO8601Format()): \(error)"
        case .recovered(let after): "recovered after \(after)"
        case .superseded(let instance): "superseded \(instance.summary) (a newer incarnation is registered)"
        case .draining(let instances): "draining \(Self.list(instances))"
        case .deregistered(let instance): "deregistered \(instance.summary)"
        case .leaseNotRevoked(let lease, let error): "lease \(lease) not revoked, it expires within its TTL: \(error)"
        case .closed: "closed"
        }
    }

    /// `2 instances: a incarnation 3, b incarnation 3`, naming at most five.
    static func list(_ instances: [ServiceInstance]) -> String {
        let noun = instances.count == 1 ? "instance" : "instances"
        var names = instances.prefix(5).map(\.summary).joined(separator: ", ")
        if instances.count > 5 { names += ", and \(instances.count - 5) more" }
        return instances.isEmpty ? "0 instances" : "\(instances.count) \(noun): \(names)"
    }
}

extension ServiceInstance {
    /// `default/orders/o1 incarnation 6`, plus the status when draining: what a log line needs to tell writes apart.
    var summary: String {
        "\(key) incarnation \(incarnation)\(status == .draining ? " (draining)" : "")"
    }
}
