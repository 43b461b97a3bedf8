import CLinuxShim

/// What a registered descriptor should be watched for.
public struct Interest: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let readable = Interest(rawValue: 1 << 0)
    public static let writable = Interest(rawValue: 1 << 1)
    public static let none: Interest = []

    /// Level-triggered epoll bits. `EPOLLRDHUP` goes with reading only: while reading is paused a peer's
    /// half-close must not be reported over and over (level-triggered), it is seen as EOF once reading resumes.
    /// `EPOLLHUP`/`EPOLLERR` are always reported by the kernel.
    var epollEvents: UInt32 {
        var events: UInt32 = 0
        if contains(.readable) { events |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if contains(.writable) { events |= EPOLLOUT.rawValue }
        return events
    }
}

/// What happened to a registered descriptor, as passed to its handler.
public struct Readiness: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Data (or a pending connection, or EOF) can be read.
    public static let readable = Readiness(rawValue: 1 << 0)
    /// The send buffer has room (or a pending connect finished).
    public static let writable = Readiness(rawValue: 1 << 1)
    /// The peer hung up (`EPOLLHUP`/`EPOLLRDHUP`).
    public static let hangup = Readiness(rawValue: 1 << 2)
    /// The socket has a pending error (`EPOLLERR`); read it with `Socket.pendingError()`.
    public static let error = Readiness(rawValue: 1 << 3)
    /// The loop is shutting down: the handler must release (close) what it owns. Delivered once, alone.
    public static let loopClosing = Readiness(rawValue: 1 << 4)

    init(epollEvents events: UInt32) {
        var readiness: Readiness = []
        if events & EPOLLIN.rawValue != 0 { readiness.insert(.readable) }
        if events & EPOLLOUT.rawValue != 0 { readiness.insert(.writable) }
        if events & (EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0 { readiness.insert(.hangup) }
        if events & EPOLLERR.rawValue != 0 { readiness.insert(.error) }
        self = readiness
    }

    public var description: String {
        let names: [(Readiness, String)] = [(.readable, "readable"), (.writable, "writable"), (.hangup, "hangup"),
                                            (.error, "error"), (.loopClosing, "loopClosing")]
        return "[" + names.filter { contains($0.0) }.map(\.1).joined(separator: ",") + "]"
    }
}
