// Helpers for the large-answer tests: fast population, a socket read at a chosen pace, chunked-body
// decoding and the node's resident memory.
import Foundation
import RosterTestSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

enum LargeAnswers {
    /// Registration failures seen by the population threads.
    final class Failures: Sendable {
        let list = Mutex<[String]>([])
        func add(_ text: String) { list.withLock { $0.append(text) } }
        var all: [String] { list.withLock { $0 } }
    }

    /// One instance's registration body: `entries` metadata entries of exactly 1,000 bytes each (key plus
    /// value under `RegistryLimits.metadataEntryBytes`), the text varying with `number`.
    static func instanceBody(_ number: Int, entries: Int) -> String {
        let filler = String(repeating: "abcdefghij", count: 100)
        let metadata = (0..<entries).map { entry in
            let value = String(("\(number):\(entry):" + filler).prefix(1_000))
            return "\"m\(entry < 10 ? "0" : "")\(entry)\":\"\(value)\""
        }
        return #"{"endpoints":["http://10.0.\#(number / 256).\#(number % 256):8080"],"metadata":{"#
            + metadata.joined(separator: ",") + "}}"
    }

    /// Sends `count` requests from `connections` threads at once, so that many share each fsync.
    /// - Returns: The failures, empty when every request got a 200.
    static func populate(count: Int, connections: Int = 16, _ request: @Sendable (Int) -> HTTPResult?) -> [String] {
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: connections) { worker in
            for number in stride(from: worker, to: count, by: connections) {
                let result = request(number)
                if result?.status != 200 {
                    failures.add("request \(number): \(result?.status ?? -1) \(result?.text.prefix(300) ?? "no answer")")
                }
            }
        }
        return failures.all
    }

    /// The resident set size of process `pid` (`VmRSS` in /proc), in bytes.
    static func residentBytes(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        let kibibytes = line.split(separator: " ").compactMap { Int($0) }.first
        return kibibytes.map { $0 * 1024 }
    }

    /// Decodes the complete chunks at the start of `bytes`: their data, how many bytes they took, and
    /// whether the last-chunk (and its empty trailer) was among them.
    static func dechunk(_ bytes: ArraySlice<UInt8>) -> (data: [UInt8], consumed: Int, ended: Bool) {
        var data: [UInt8] = []
        var position = bytes.startIndex
        while let lineEnd = find([13, 10], in: bytes[position...]) {
            guard let size = Int(String(decoding: bytes[position..<lineEnd], as: UTF8.self), radix: 16) else { break }
            let dataStart = lineEnd + 2
            guard bytes.endIndex >= dataStart + size + 2 else { break }
            position = dataStart + size + 2
            if size == 0 { return (data, position - bytes.startIndex, true) }
            data += bytes[dataStart..<(dataStart + size)]
        }
        return (data, position - bytes.startIndex, false)
    }

    /// The head (as text) and where the body starts, once the blank line has arrived.
    static func head(_ bytes: ArraySlice<UInt8>) -> (text: String, bodyStart: Int)? {
        guard let end = find([13, 10, 13, 10], in: bytes) else { return nil }
        return (String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self), end + 4)
    }

    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var start = haystack.startIndex
        while start <= haystack.endIndex - needle.count {
            if haystack[start] == needle[0] && haystack[start..<(start + needle.count)].elementsEqual(needle) {
                return start
            }
            start += 1
        }
        return nil
    }
}

/// A loopback socket read at the test's pace, with a small receive buffer so that not reading backs
/// the node's side up quickly.
final class PacedSocket {
    let descriptor: Int32
    private(set) var received: [UInt8] = []

    init?(port: UInt16, receiveBufferBytes: Int32 = 64 * 1024, timeoutSeconds: Int = 30) {
        guard let descriptor = LoopbackSocket.connect(
            port: port, receiveBufferBytes: receiveBufferBytes, receiveTimeoutMicroseconds: timeoutSeconds * 1_000_000)
        else { return nil }
        self.descriptor = descriptor
    }

    deinit { Glibc.close(descriptor) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads at most `limit` bytes into `received`; false at end of stream, on error or timeout.
    @discardableResult
    func read(upTo limit: Int) -> Bool {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = recv(descriptor, &buffer, limit, 0)
        guard count > 0 else { return false }
        received += buffer[0..<count]
        return true
    }
}
