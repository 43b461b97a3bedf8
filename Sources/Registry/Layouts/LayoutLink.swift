/// How a record is paired with another view of the same instance through a `FrameworkLayout`.
///
/// A pair is one source, the record a client wrote, and its mirrors, the records Roster derived from it:
/// - a key at a layout holding the framework's JSON (source) and the instance record it describes (mirror);
/// - a natively registered instance record (source) and its renderings at the layouts of its namespace (mirrors).
///
/// Rules, all applied inside one command at one revision (see `RegistryState+Layouts.swift`):
/// 1. Mirrors are written with their source, carry its lease, and are removed with it (delete, deregister, lease
///    expiry or revocation).
/// 2. Deleting any member, mirror included, removes the whole pair: deleting kratos' key deregisters the instance,
///    and deregistering the instance deletes kratos' key.
/// 3. Writing any member replaces the pair with what the new write describes; members it no longer has are
///    removed.
/// 4. A rendering never takes over a key held by another pair or by a plain key: the instance goes without that
///    rendering (of two instances with one address, the first keeps the kitex key). The instance a layout key
///    describes is different: the key names it, so the write replaces whatever held that instance name.
///
/// Invariant: a mirror's source exists, lists the mirror and has the same lease; every key a source lists is a
/// mirror of it.
public enum LayoutLink: Hashable, Sendable {
    /// This record was written by a client and has these mirrors.
    case source(mirrors: [[UInt8]])
    /// This record was derived from the record at `of`.
    case mirror(of: [UInt8])

    /// Whether the record was derived rather than written by a client.
    public var isMirror: Bool {
        if case .mirror = self { return true }
        return false
    }
}
