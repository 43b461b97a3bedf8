// Goal: serializable reads answered at once from the node's applied state (without a turn through the Ready
// loop) keep HTTP/1.1's promises: answers in request order on a connection that pipelines thousands of them
// mixed with other requests (answered from inside the previous answer, so this also proves the loop thread's
// stack holds), each with the right status and body; and they are counted like other reads.
// Method: one real `roster` process per case, with client connections on the Raft loop and on I/O threads; one
// send of 3,000 pipelined requests, read to the end of the stream (the last request closes the connection).
import Foundation
import RosterTestSupport
import Testing

@Suite("Serializable reads answered at once", .serialized)
struct LocalReadIntegrationTests {
    /// One HTTP/1.1 answer taken off the front of `bytes` (Content-Length framed), or nil.
    static func nextAnswer(_ bytes: ArraySlice<UInt8>) -> (status: Int, body: String, rest: ArraySlice<UInt8>)? {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let head = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        let length = lines.dropFirst().compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        let bodyStart = end + separator.count
        guard bytes.endIndex - bodyStart >= length else { return nil }
        return (status, String(decoding: bytes[bodyStart..<(bodyStart + length)], as: UTF8.self), bytes[(bodyStart + length)...])
    }

    @Test("3,000 pipelined requests, serializable reads among them, are answered in order", arguments: [0, 2])
    func pipelinedLocalReads(ioThreads: Int) throws {
        let cluster = try ProcessCluster(size: 1, extraFlags: ["--io-threads", "\(ioThreads)"])
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let port = cluster.nodes[0].clientPort
        let put = TestHTTP.request("PUT", port: port, path: "/v1/services/local/instances/a1", body: #"{"endpoints":["http://h:1"]}"#)
        #expect(put?.status == 200)

        let count = 3_000
        var burst = ""
        for index in 0..<count {
            let close = index == count - 1 ? "Connection: close\r\n" : ""
            switch index % 3 {
            case 0: burst += "GET /v1/services/local/instances/a1?consistency=serializable HTTP/1.1\r\nHost: x\r\n\(close)\r\n"
            case 1: burst += "GET /v1/services/local/instances/missing?consistency=serializable HTTP/1.1\r\nHost: x\r\n\(close)\r\n"
            default: burst += "GET /healthz HTTP/1.1\r\nHost: x\r\n\(close)\r\n"
            }
        }
        let socket = try #require(PacedSocket(port: port, receiveBufferBytes: 1 << 20))
        socket.send(burst)
        while socket.read(upTo: 1 << 20) {}

        var rest = socket.received[...]
        var answered = 0
        while let answer = Self.nextAnswer(rest) {
            switch answered % 3 {
            case 0: #expect(answer.status == 200 && answer.body.contains(#""id":"a1""#), "answer \(answered): \(answer.status)")
            case 1: #expect(answer.status == 404, "answer \(answered): \(answer.status)")
            default: #expect(answer.status == 200 && answer.body.contains(#""status":"ok""#), "answer \(answered): \(answer.status)")
            }
            answered += 1
            rest = answer.rest
        }
        #expect(answered == count)
        #expect(rest.isEmpty)

        let metrics = try #require(TestHTTP.request("GET", port: port, path: "/metrics")).text
        let reads = metrics.split(separator: "\n").first { $0.hasPrefix("roster_requests_total{kind=\"read\"}") }
        let counted = reads.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        #expect(counted >= 2 * count / 3, "\(String(describing: reads))")
    }
}
