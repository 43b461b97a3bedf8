// Goal: a real node answers DNS over UDP and TCP from its applied registry: registrations appear and
// deregistrations disappear, UDP answers too large are cut with TC while TCP carries them whole, malformed
// packets get FORMERR or nothing and never hurt the node, an idle TCP client is cut, and a node that lost
// its leader answers SERVFAIL once past --dns-max-staleness.
// Method: real roster processes with --dns-addr on a free port; plain sockets as the DNS client; every wait
// polls a condition against a deadline.
import DNS
import Foundation
import RosterTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking DNS client on loopback for tests: one UDP exchange, or TCP with the 2-byte length prefix.
enum DNSTestClient {
    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    static func setTimeout(_ descriptor: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends `packet` over UDP and returns the answer's bytes, or nil if none came within 2 s.
    static func udp(_ packet: [UInt8], port: UInt16) -> [UInt8]? {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        setTimeout(descriptor, seconds: 2)
        var address = loopback(port: port)
        let sent = packet.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == packet.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[0..<count]) : nil
    }

    static func udp(_ message: DNSMessage, port: UInt16) -> DNSMessage? {
        udp(message.encoded(), port: port).flatMap { try? DNSMessage(decoding: $0) }
    }

    /// Writes `bytes` to a connected TCP socket.
    static func send(_ bytes: [UInt8], on descriptor: Int32) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Reads one length-prefixed answer; nil on EOF, timeout or a short read.
    static func receiveFramed(on descriptor: Int32) -> [UInt8]? {
        func read(_ count: Int) -> [UInt8]? {
            var collected: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while collected.count < count {
                let got = recv(descriptor, &buffer, count - collected.count, 0)
                guard got > 0 else { return nil }
                collected += buffer[0..<got]
            }
            return collected
        }
        guard let prefix = read(2) else { return nil }
        return read(Int(prefix[0]) << 8 | Int(prefix[1]))
    }

    static func tcp(_ message: DNSMessage, port: UInt16) -> DNSMessage? {
        guard let descriptor = LoopbackSocket.connect(port: port, receiveTimeoutMicroseconds: 2_000_000) else { return nil }
        defer { close(descriptor) }
        let packet = message.encoded()
        guard send([UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet, on: descriptor) else { return nil }
        return receiveFramed(on: descriptor).flatMap { try? DNSMessage(decoding: $0) }
    }

    static func query(_ name: String, _ type: DNSRecordType, id: UInt16 = 7) -> DNSMessage {
        DNSMessage(header: DNSHeader(id: id, recursionDesired: true),
                   questions: [DNSQuestion(name: try! DNSName(name), type: type)])
    }
}

@Suite("DNS interface of a real node", .serialized)
struct DNSIntegrationTests {
    static func singleNode(flags: [String] = []) throws -> (ProcessCluster, UInt16) {
        let port = ProcessCluster.freePort()
        let cluster = try ProcessCluster(size: 1, extraFlags: ["--dns-addr", "127.0.0.1:\(port)", "--dns-ttl", "3"] + flags)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        return (cluster, port)
    }

    static func register(_ cluster: ProcessCluster, _ id: String, _ body: String) throws {
        let result = cluster.request("PUT", "/v1/services/web/instances/\(id)", on: 0, body: body)
        try #require(result?.status == 200, "register \(id): \(result?.status ?? -1) \(result?.text ?? "")")
    }

    @Test("registrations appear over UDP and TCP, draining and deregistered instances disappear")
    func registrationsAppearAndLeave() throws {
        let (cluster, port) = try Self.singleNode()
        let missing = DNSTestClient.udp(DNSTestClient.query("web.default.roster.", .a), port: port)
        #expect(missing?.responseCode == .nameError)
        #expect(cluster.request("GET", "/metrics", on: 0)?.text.contains(#"roster_requests_total{kind="dns_nxdomain"} 1"#) == true)
        try Self.register(cluster, "i1", #"{"endpoints":["grpc://10.0.0.1:9000"],"metadata":{"tags":"blue"}}"#)
        try Self.register(cluster, "i2", #"{"endpoints":["grpc://10.0.0.2:9000"]}"#)
        let a = DNSTestClient.udp(DNSTestClient.query("web.default.roster.", .a), port: port)
        #expect(Set(a?.answers.map(\.data) ?? []) == [.a([10, 0, 0, 1]), .a([10, 0, 0, 2])])
        #expect(a?.answers.first?.ttl == 3)
        let srv = DNSTestClient.tcp(DNSTestClient.query("web.default.roster.", .srv), port: port)
        #expect(srv?.answers.count == 2 && srv?.additionals.count == 2)
        let blue = DNSTestClient.udp(DNSTestClient.query("blue.web.default.roster.", .a), port: port)
        #expect(blue?.answers.map(\.data) == [.a([10, 0, 0, 1])])
        #expect(cluster.request("PATCH", "/v1/services/web/instances/i1", on: 0, body: #"{"status":"draining"}"#)?.status == 200)
        let drained = DNSTestClient.udp(DNSTestClient.query("web.default.roster.", .a), port: port)
        #expect(drained?.answers.map(\.data) == [.a([10, 0, 0, 2])])
        #expect(cluster.request("DELETE", "/v1/services/web/instances/i2", on: 0)?.status == 200)
        let noData = DNSTestClient.udp(DNSTestClient.query("web.default.roster.", .a), port: port)
        #expect(noData?.responseCode == .noError && noData?.answers.isEmpty == true && noData?.authorities.count == 1)
    }

    @Test("a large answer is cut with TC over UDP and whole over TCP")
    func truncation() throws {
        let (cluster, port) = try Self.singleNode()
        for index in 0..<60 {
            try Self.register(cluster, "i\(index)", #"{"endpoints":["grpc://10.0.1.\#(index):9000"]}"#)
        }
        let udp = try #require(DNSTestClient.udp(DNSTestClient.query("web.default.roster.", .a), port: port))
        #expect(udp.header.isTruncated && udp.answers.count < 60)
        let tcp = try #require(DNSTestClient.tcp(DNSTestClient.query("web.default.roster.", .a), port: port))
        #expect(!tcp.header.isTruncated && tcp.answers.count == 60)
    }

    @Test("malformed packets get FORMERR or nothing, slow TCP clients are cut, and the node keeps answering")
    func badInput() throws {
        let (cluster, port) = try Self.singleNode()
        try Self.register(cluster, "i1", #"{"endpoints":["grpc://10.0.0.1:9000"]}"#)
        // A name that points at itself: a compression loop.
        let loop: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1]
        let formerr = DNSTestClient.udp(loop, port: port).flatMap { try? DNSMessage(decoding: $0) }
        #expect(formerr?.header.id == 0x1234 && formerr?.responseCode == .formatError)
        for garbage in [[UInt8](), [1, 2, 3], [UInt8](repeating: 0xFF, count: 4000)] {
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = DNSTestClient.loopback(port: port)
            _ = garbage.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            close(descriptor)
        }
        // A TCP client that announces a long query and never finishes it is closed by the idle timeout.
        let slow = try #require(LoopbackSocket.connect(port: port, receiveTimeoutMicroseconds: 1_000_000))
        defer { close(slow) }
        #expect(DNSTestClient.send([0xFF, 0xFF, 0x12], on: slow))
        try cluster.waitFor("the idle DNS TCP connection to be closed", seconds: 40) {
            var byte: UInt8 = 0
            return recv(slow, &byte, 1, 0) == 0
        }
        let answer = DNSTestClient.udp(DNSTestClient.query("web.default.roster.", .a), port: port)
        #expect(answer?.answers.map(\.data) == [.a([10, 0, 0, 1])])
        #expect(cluster.request("GET", "/healthz", on: 0)?.status == 200)
    }

    @Test("TCP connections beyond 128 are closed at once; those held keep being answered")
    func connectionLimit() throws {
        let (cluster, port) = try Self.singleNode()
        try Self.register(cluster, "i1", #"{"endpoints":["grpc://10.0.0.1:9000"]}"#)
        var held: [Int32] = []
        defer { for descriptor in held { close(descriptor) } }
        let packet = DNSTestClient.query("web.default.roster.", .a).encoded()
        let framed = [UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet
        for _ in 0..<128 {
            let descriptor = try #require(LoopbackSocket.connect(port: port, receiveTimeoutMicroseconds: 5_000_000))
            held.append(descriptor)
            // A query answered proves the server adopted this connection before the next one is opened.
            #expect(DNSTestClient.send(framed, on: descriptor))
            #expect(DNSTestClient.receiveFramed(on: descriptor) != nil)
        }
        let extra = try #require(LoopbackSocket.connect(port: port, receiveTimeoutMicroseconds: 5_000_000))
        held.append(extra)
        var byte: UInt8 = 0
        #expect(recv(extra, &byte, 1, 0) <= 0, "the 129th connection is closed without an answer")
        #expect(DNSTestClient.send(framed, on: held[0]))
        let answer = DNSTestClient.receiveFramed(on: held[0]).flatMap { try? DNSMessage(decoding: $0) }
        #expect(answer?.answers.map(\.data) == [.a([10, 0, 0, 1])])
    }

    @Test("a node without a leader for longer than --dns-max-staleness answers SERVFAIL, and recovers")
    func staleness() throws {
        let port = ProcessCluster.freePort()
        let cluster = try ProcessCluster(size: 3, extraFlags: ["--dns-max-staleness", "1500"])
        cluster.nodeFlags["n1"] = ["--dns-addr", "127.0.0.1:\(port)"]
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        #expect(cluster.request("PUT", "/v1/services/web/instances/i1", on: 0, body: #"{"endpoints":["grpc://10.0.0.1:9000"]}"#)?.status == 200)
        try cluster.waitFor("n1 to answer from its registry") {
            DNSTestClient.udp(DNSTestClient.query("web.default.roster.", .a), port: port)?.answers.count == 1
        }
        cluster.kill(1)
        cluster.kill(2)
        try cluster.waitFor("n1 to answer SERVFAIL once its leader is gone", seconds: 30) {
            DNSTestClient.udp(DNSTestClient.query("web.default.roster.", .a), port: port)?.responseCode == .serverFailure
        }
        try cluster.start(1)
        try cluster.start(2)
        try cluster.waitFor("n1 to answer again once a leader is back", seconds: 30) {
            DNSTestClient.udp(DNSTestClient.query("web.default.roster.", .a), port: port)?.answers.count == 1
        }
    }
}
