// Goal: shared fixtures for the EtcdAPI tests: a seeded generator, hex helpers and the sample values the
// golden vectors use (the same values scripts/etcd-golden-vectors.py builds in Python).
// Method: plain values; no test lives here.
import EtcdAPI
import Protobuf
import struct Raft.SplitMix64

/// The project's one seeded generator, under its own name here: importing all of Raft would clash with
/// etcd's message names (`SnapshotResponse`).
typealias SplitMix64 = Raft.SplitMix64

extension SplitMix64 {
    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
}

func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// UTF-8 bytes of a literal, for key and value fields.
func b(_ text: String) -> [UInt8] { Array(text.utf8) }

let sampleHeader = ResponseHeader(clusterID: 14_841_639_068_965_178_418, memberID: 10_276_657_743_932_975_437, revision: 42, raftTerm: 3)

func sampleKeyValue(_ suffix: String = "") -> KeyValue {
    KeyValue(
        key: b("/svc/a" + suffix), createRevision: 5, modRevision: 7, version: 2, value: b("10.0.0.1:80"),
        lease: 7_587_862_093_416_355_329)
}

/// Decodes `bytes` as `Message`, returning the typed error instead of throwing.
func decode<Message: ProtoMessage>(_ type: Message.Type, _ bytes: [UInt8]) -> Result<Message, ProtoError> {
    do throws(ProtoError) {
        return .success(try Message(decoding: bytes))
    } catch {
        return .failure(error)
    }
}

/// A message with the generated test hooks of RandomMessages.swift.
protocol ProtoMessageSample: ProtoMessage {
    static var plainFields: [Int] { get }
    static var oneofFields: [[Int]] { get }
    static func random(_ r: inout SplitMix64, depth: Int) -> Self
}

extension SplitMix64 {
    /// A non-zero Int64, half the time small, half the time anywhere in range (negatives included).
    mutating func nonZeroInt64() -> Int64 {
        next() % 2 == 0 ? Int64(1 + next() % 1_000) : Int64(bitPattern: next() | 1)
    }

    /// A non-zero UInt64, half the time small.
    mutating func nonZeroUInt64() -> UInt64 {
        next() % 2 == 0 ? 1 + next() % 1_000 : next() | 1
    }

    /// A non-empty string, sometimes beyond ASCII.
    mutating func text() -> String {
        ["a", "root", "http://10.0.0.1:2380", "é", "日本", "x y"][Int(next() % 6)]
    }

    /// One to eight random bytes.
    mutating func data() -> [UInt8] {
        bytes(1 + Int(next() % 8))
    }
}
