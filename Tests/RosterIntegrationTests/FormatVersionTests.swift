// Goal: the on-disk format carries a version; a data directory written by a newer Roster (a crafted newer
// version number) is refused at start with a message that names the file and says a newer Roster wrote it,
// and nothing in it is changed, so the newer binary (here: the same directory put back at the version this
// build writes) still reads it and the member rejoins.
// Method: a 3-process cluster; one member is stopped, its IDENTITY file rewritten with version 2 and a valid
// checksum, started (it must exit with status 1), then the original file is put back and the member catches up.
import Foundation
import RosterTestSupport
import Testing

@Suite("On-disk format version", .serialized)
struct FormatVersionTests {
    /// CRC-32C (Castagnoli), reflected, as the data directory's files use.
    static func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test("a data directory of a newer format version is refused with a clear message, and read again once it is back at this build's version")
    func newerFormatRefused() throws {
        let cluster = try ProcessCluster(size: 3)
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        let member = (leader + 1) % 3
        #expect(cluster.request("PUT", "/v1/kv/before", on: leader, body: #"{"value":"v"}"#)?.status == 200)
        cluster.kill(member, signal: SIGTERM)
        let path = cluster.nodes[member].dataDirectory + "/IDENTITY"
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(original.count == 32)
        var newer = original
        newer[8] = 2
        let checksum = Self.crc32c(newer[0..<28])
        for position in 0..<4 { newer[28 + position] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(position))) }
        try Data(newer).write(to: URL(fileURLWithPath: path))

        let refused = try cluster.run("roster", cluster.serverFlags(member))
        #expect(refused.status == 1)
        #expect(refused.output.contains(path) && refused.output.contains("written by a newer Roster"), "\(refused.output)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == newer)

        try Data(original).write(to: URL(fileURLWithPath: path))
        #expect(cluster.request("PUT", "/v1/kv/after", on: leader, body: #"{"value":"v"}"#)?.status == 200)
        try cluster.start(member)
        try cluster.waitFor("the member to rejoin and catch up") {
            let json = cluster.request("GET", "/v1/kv/after?consistency=serializable", on: member)?.json
            return (json?["kvs"] as? [Any])?.count == 1
        }
    }
}
