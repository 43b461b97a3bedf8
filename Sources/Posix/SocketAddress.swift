import Glibc

/// An IPv4 address and TCP port, parsed from and printed as `"a.b.c.d:port"`.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The IPv4 address in host byte order (`127.0.0.1` is `0x7F00_0001`).
    public var address: UInt32
    /// The TCP port; 0 asks the kernel to choose when binding.
    public var port: UInt16

    /// Creates an address from a host-order IPv4 value and a port.
    public init(address: UInt32, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `127.0.0.1:port`.
    public static func loopback(port: UInt16) -> SocketAddress {
        SocketAddress(address: 0x7F00_0001, port: port)
    }

    /// Whether the address is in 127.0.0.0/8, which never leaves this machine.
    public var isLoopback: Bool { address >> 24 == 127 }

    /// Whether a listener at `other` is on this machine too, as far as the addresses tell: the same address, or
    /// both loopback.
    public func isOnSameMachine(as other: SocketAddress) -> Bool {
        address == other.address || (isLoopback && other.isLoopback)
    }

    /// Parses `"a.b.c.d:port"` (decimal octets 0...255, port 0...65535); nil if malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let port = Self.decimal(parts[1], max: 65535) else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var address: UInt32 = 0
        for octet in octets {
            guard let value = Self.decimal(octet, max: 255) else { return nil }
            address = address << 8 | UInt32(value)
        }
        self.init(address: address, port: UInt16(port))
    }

    public var description: String {
        let octets = [24, 16, 8, 0].map { String((address >> UInt32($0)) & 0xFF) }
        return octets.joined(separator: ".") + ":" + String(port)
    }

    /// Digits only (no sign, no spaces), at most 5 of them, not above `max`.
    private static func decimal(_ text: Substring, max: Int) -> Int? {
        guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let value = Int(text), value <= max else { return nil }
        return value
    }

    // MARK: - sockaddr bridging

    /// Calls `body` with this address as a `sockaddr` pointer and its length.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var storage = sockaddr_in()
        storage.sin_family = sa_family_t(AF_INET)
        storage.sin_port = port.bigEndian
        storage.sin_addr = in_addr(s_addr: address.bigEndian)
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Reads an address the kernel filled in; nil for non-IPv4 families.
    init?(_ storage: sockaddr_in) {
        guard storage.sin_family == sa_family_t(AF_INET) else { return nil }
        self.init(address: UInt32(bigEndian: storage.sin_addr.s_addr), port: UInt16(bigEndian: storage.sin_port))
    }
}
