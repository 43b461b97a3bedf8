// Goal: show flow control holds in both directions: we never send past the client's stream or connection window
// or its frame size, a stalled stream never blocks another, queues are bounded and reported, and the client
// cannot send past the windows we advertised. Method: small client windows set through SETTINGS, response data
// queued by the application, and the DATA frames the server writes counted per stream after each step.
import HPACK
import Testing
@testable import HTTP2

@Suite("HTTP/2 flow control")
struct FlowControlTests {
    /// A client with a small initial stream window and streams 1 and 3 open with response headers sent.
    func twoStreams(window: UInt32, limits: HTTP2Limits = HTTP2Limits()) throws -> TestClient {
        var client = TestClient(limits: limits, settings: [SettingsParameter(.initialWindowSize, window)])
        client.openRequest(1)
        client.openRequest(3)
        try client.server.sendHeaders(responseFields, on: 1)
        try client.server.sendHeaders(responseFields, on: 3)
        _ = client.read()
        return client
    }

    @Test("a stream whose window is zero does not block another stream")
    func stalledStreamDoesNotBlock() throws {
        var client = try twoStreams(window: 10)
        try client.server.sendData([UInt8](repeating: 1, count: 100), on: 1)
        try client.server.sendData([UInt8](repeating: 3, count: 100), on: 3)
        #expect(dataBytes(client.readFrames()) == [1: 10, 3: 10])
        #expect(client.server.queuedBytes(on: 1) == 90)
        // Only stream 3 gets more window; stream 1 stays stalled but stream 3 drains.
        #expect(client.send(.windowUpdate(stream: 3, increment: 90)) == [.windowOpened(3)])
        #expect(dataBytes(client.readFrames()) == [3: 90])
        #expect(client.server.queuedBytes(on: 1) == 90)
        #expect(client.server.queuedBytes(on: 3) == 0)
        #expect(client.server.queuedBytes == 90)
    }

    @Test("a window lifted from zero is reported so the shell writes again")
    func windowOpenedEvent() throws {
        var client = try twoStreams(window: 0)
        try client.server.sendData([1, 2, 3], on: 1)
        #expect(!client.server.hasOutbound)
        #expect(client.send(.windowUpdate(stream: 1, increment: 2)) == [.windowOpened(1)])
        #expect(client.server.hasOutbound)
        #expect(dataBytes(client.readFrames()) == [1: 2])
    }

    @Test("the connection window bounds all streams together")
    func connectionWindow() throws {
        var client = try twoStreams(window: 1 << 20)
        try client.server.sendData([UInt8](repeating: 1, count: 50_000), on: 1)
        try client.server.sendData([UInt8](repeating: 3, count: 50_000), on: 3)
        let first = dataBytes(client.readFrames())
        #expect(first.values.reduce(0, +) == HTTP2Constants.defaultWindowSize)
        #expect(client.send(.windowUpdate(stream: 0, increment: 100_000)) == [.windowOpened(.connection)])
        let second = dataBytes(client.readFrames())
        #expect(first[1, default: 0] + second[1, default: 0] == 50_000)
        #expect(first[3, default: 0] + second[3, default: 0] == 50_000)
    }

    @Test("DATA is split at the client's SETTINGS_MAX_FRAME_SIZE")
    func frameSizeSplit() throws {
        var client = TestClient(settings: [SettingsParameter(.maxFrameSize, 20_000)])
        client.openRequest(1)
        try client.server.sendHeaders(responseFields, on: 1)
        try client.server.sendData([UInt8](repeating: 7, count: 50_000), on: 1, endStream: true)
        client.send(.windowUpdate(stream: 0, increment: 1 << 20), .windowUpdate(stream: 1, increment: 1 << 20))
        let sizes = client.readFrames().compactMap { frame -> Int? in
            if case .data(_, let payload, _, _) = frame { return payload.count }
            return nil
        }
        #expect(sizes == [20_000, 20_000, 10_000])
    }

    @Test("two busy streams share the connection round-robin, frame by frame")
    func roundRobin() throws {
        var client = try twoStreams(window: 1 << 20)
        try client.server.sendData([UInt8](repeating: 1, count: 40_000), on: 1)
        try client.server.sendData([UInt8](repeating: 3, count: 40_000), on: 3)
        let order = client.readFrames(maxBytes: 4 * 16_384).map(\.stream)
        #expect(order == [1, 3, 1, 3])
    }

    @Test("queues are bounded per stream and per connection, and the refusal queues nothing")
    func queueBounds() throws {
        var limits = HTTP2Limits()
        limits.maxQueuedBytesPerStream = 1000
        limits.maxQueuedBytesPerConnection = 1500
        var client = try twoStreams(window: 0, limits: limits)
        try client.server.sendData([UInt8](repeating: 0, count: 900), on: 1)
        #expect(throws: HTTP2SendError.queueFull(1, queued: 900, adding: 101, limit: 1000)) {
            try client.server.sendData([UInt8](repeating: 0, count: 101), on: 1)
        }
        #expect(client.server.queuedBytes(on: 1) == 900)
        #expect(throws: HTTP2SendError.queueFull(3, queued: 900, adding: 700, limit: 1500)) {
            try client.server.sendData([UInt8](repeating: 0, count: 700), on: 3)
        }
        // A slow reader shows up in the queue; the application cuts it and the memory is released.
        client.server.resetStream(1, code: .enhanceYourCalm)
        #expect(client.server.queuedBytes == 0)
        try client.server.sendData([UInt8](repeating: 0, count: 700), on: 3)
    }

    @Test("a lower SETTINGS_INITIAL_WINDOW_SIZE can make windows negative; data waits until they recover")
    func negativeWindow() throws {
        var client = try twoStreams(window: 100)
        try client.server.sendData([UInt8](repeating: 0, count: 100), on: 1)
        #expect(dataBytes(client.readFrames()) == [1: 100])
        client.send(.settings(ack: false, parameters: [SettingsParameter(.initialWindowSize, 50)]))
        #expect(client.server.streams[1]?.sendWindow == -50)
        try client.server.sendData([1], on: 1)
        #expect(client.read() == ["SETTINGS ACK"])
        #expect(client.send(.windowUpdate(stream: 1, increment: 50)) == [])
        #expect(client.read() == [])
        #expect(client.send(.windowUpdate(stream: 1, increment: 1)) == [.windowOpened(1)])
        #expect(client.read() == ["DATA 1 len=1"])
    }

    @Test("SETTINGS_INITIAL_WINDOW_SIZE that overflows an open stream's window is FLOW_CONTROL_ERROR")
    func initialWindowOverflow() throws {
        var client = try twoStreams(window: 65_535)
        client.send(.windowUpdate(stream: 1, increment: 0x7FFF_0000))
        let events = client.send(.settings(ack: false,
                                           parameters: [SettingsParameter(.initialWindowSize, 0x7FFF_FFFF)]))
        #expect(events.contains {
            if case .connectionFailed(let error) = $0 { error.code == .flowControlError } else { false }
        })
        #expect(goAwayCode(client.readFrames()) == .flowControlError)
    }

    @Test("WINDOW_UPDATE past 2^31-1 resets the stream, or fails the connection on stream 0")
    func windowUpdateOverflow() throws {
        var client = try twoStreams(window: 65_535)
        client.send(.windowUpdate(stream: 1, increment: 0x7FFF_FFFF))
        #expect(client.read() == ["RST_STREAM 1 FLOW_CONTROL_ERROR"])
        client.send(.windowUpdate(stream: 0, increment: 0x7FFF_FFFF))
        #expect(client.read() == ["GOAWAY 3 FLOW_CONTROL_ERROR"])
    }

    @Test("delivered DATA is acknowledged with WINDOW_UPDATE once half a window was delivered")
    func receiveWindowUpdates() throws {
        var limits = HTTP2Limits()
        limits.initialStreamWindowSize = 65_535
        limits.connectionWindowSize = 100_000
        var client = TestClient(limits: limits)
        client.openRequest(1)
        client.openRequest(3)
        let chunk = [UInt8](repeating: 0, count: 16_384)
        for _ in 0..<3 { client.send(.data(stream: 1, payload: chunk, endStream: false, padding: nil)) }
        // 2 x 16384 = 32768 passes half of 65535: the stream's window is topped up once.
        #expect(client.read() == ["WINDOW_UPDATE 1 32768"])
        client.send(.data(stream: 3, payload: chunk, endStream: false, padding: nil))
        // 4 x 16384 = 65536 passes half of the 100000 connection window.
        #expect(client.read() == ["WINDOW_UPDATE 0 65536"])
        // The end of the stream needs no update.
        client.send(.data(stream: 3, payload: chunk, endStream: true, padding: nil))
        #expect(client.read() == [])
    }

    @Test("client DATA past the stream window, padding included, resets the stream")
    func streamReceiveOverflow() throws {
        var client = TestClient()
        client.openRequest(1)
        client.server.streams[1]?.receiveWindow = 10
        #expect(client.send(.data(stream: 1, payload: [1, 2, 3, 4, 5], endStream: false, padding: 4)).count == 1)
        let events = client.send(.data(stream: 1, payload: [6], endStream: false, padding: nil))
        #expect(events.count == 1)
        guard case .streamAborted(1, let error) = events.first else {
            Issue.record("expected streamAborted, got \(events)")
            return
        }
        #expect(error.code == .flowControlError)
        #expect(client.read() == ["RST_STREAM 1 FLOW_CONTROL_ERROR"])
    }

    @Test("client DATA past the connection window is a connection FLOW_CONTROL_ERROR")
    func connectionReceiveOverflow() throws {
        var client = TestClient()
        client.openRequest(1)
        client.server.connectionReceiveWindow = 100
        client.send(.data(stream: 1, payload: [UInt8](repeating: 0, count: 101), endStream: false, padding: nil))
        #expect(client.read() == ["GOAWAY 1 FLOW_CONTROL_ERROR"])
        #expect(client.server.isFinished)
    }
}
