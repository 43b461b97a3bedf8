// Goal: show the socket layer's contracts in isolation: address parsing, binding port 0, the syscall
// wrapper's errno discipline, typed connect failures, and the descriptor limit helper. Method: direct calls on
// real descriptors (pipes, loopback sockets), checking returned values and thrown `SystemError`s.
import Glibc
import Posix
import Testing

@Suite("Sockets and system calls")
struct SocketTests {
    @Test("valid IPv4 addresses parse and print back", arguments: [
        "127.0.0.1:2379", "0.0.0.0:0", "255.255.255.255:65535", "10.1.2.3:80",
    ])
    func parsesAddresses(text: String) throws {
        let address = try #require(SocketAddress(text))
        #expect(address.description == text)
    }

    @Test("malformed addresses are rejected", arguments: [
        "", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0:80", "127.0.0.1.1:80", "256.0.0.1:80", "1.2.3.4:65536",
        "1.2.3.4:-1", "1.2.3.4:+1", "a.b.c.d:80", "1.2.3.4:80:1", " 1.2.3.4:80", "[::1]:80",
    ])
    func rejectsAddresses(text: String) {
        #expect(SocketAddress(text) == nil)
    }

    @Test("binding port 0 returns the kernel-chosen port")
    func bindPortZero() throws {
        let socket = try Socket.listen(on: .loopback(port: 0))
        defer { socket.close() }
        let bound = try socket.localAddress()
        #expect(bound.port != 0)
        #expect(bound.address == 0x7F00_0001)
    }

    @Test("a second listener on a bound port fails with EADDRINUSE")
    func addressInUse() throws {
        let first = try Socket.listen(on: .loopback(port: 0))
        defer { first.close() }
        let port = try first.localAddress().port
        #expect(throws: SystemError(errno: EADDRINUSE, operation: "bind")) {
            try Socket.listen(on: .loopback(port: port)).close()
        }
    }

    @Test("the syscall wrapper returns wouldBlock for EAGAIN and throws SystemError otherwise")
    func syscallDiscipline() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        #expect(fcntl(descriptors[0], F_SETFL, O_NONBLOCK) == 0)
        defer {
            close(descriptors[0])
            close(descriptors[1])
        }
        var byte: UInt8 = 0
        let read = try syscall("read") { Glibc.read(descriptors[0], &byte, 1) }
        #expect(read == .wouldBlock)
        do {
            _ = try syscall("listen") { listen(descriptors[0], 1) }
            Issue.record("listen on a pipe should fail")
        } catch {
            #expect(error.errno == ENOTSOCK)
            #expect(error.operation == "listen")
            #expect(error.description.contains("listen failed"))
        }
    }

    @Test("connecting to a closed port fails with ECONNREFUSED as a typed error")
    func connectRefused() throws {
        let probe = try Socket.listen(on: .loopback(port: 0))
        let port = try probe.localAddress().port
        probe.close()
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let closed = Recorder<Connection.CloseReason?>(nil)
        let immediate = try onLoop(thread) { loop -> SystemError? in
            do {
                _ = try Connection.connect(to: .loopback(port: port), on: loop,
                                           delegate: ClientDelegate(payload: [1], closed: closed))
                return nil
            } catch let error as SystemError {
                return error
            }
        }
        if let immediate {
            #expect(immediate.errno == ECONNREFUSED)
        } else {
            #expect(waitUntil { closed.value != nil })
            #expect(closed.value == .error(SystemError(errno: ECONNREFUSED, operation: "connect")))
        }
    }

    @Test("raising the descriptor limit reaches the hard limit")
    func raisesDescriptorLimit() throws {
        let raised = try ResourceLimits.raiseOpenFilesToHardLimit()
        let (soft, hard) = try ResourceLimits.openFiles()
        #expect(soft == raised)
        #expect(soft == min(hard, 1 << 20))
    }
}
