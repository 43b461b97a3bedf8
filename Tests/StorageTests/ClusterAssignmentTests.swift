// Goal: the CLUSTER file keeps the cluster ID and, since `--join ADDR` records them, the members it learned, so a
// joined member restarts while ADDR is down; a file of an older build (no members) still reads; damage is refused.
// Method: write and read back on a SimulatedFileSystem; flip a byte.
import Testing

@testable import Storage

@Suite("Cluster assignment file")
struct ClusterAssignmentTests {
    static let members = [(name: "n1", peerAddress: "10.0.0.1:2380"), (name: "n2", peerAddress: "10.0.0.2:2380")]

    @Test("the cluster ID, reason and learned members read back")
    func withMembers() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/d")
        try ClusterAssignment.write(clusterID: 0xC1, reason: "joined through n1", members: Self.members, directory: "/d", fileSystem: fileSystem)
        let read = try #require(try ClusterAssignment.read(directory: "/d", fileSystem: fileSystem))
        #expect(read.clusterID == 0xC1 && read.reason == "joined through n1")
        let members = try ClusterAssignment.recordedMembers(directory: "/d", fileSystem: fileSystem)
        #expect(members.map(\.name) == ["n1", "n2"] && members.map(\.peerAddress) == ["10.0.0.1:2380", "10.0.0.2:2380"])
    }

    @Test("a file without members (restore, --force-new-cluster, older builds) reads with none")
    func withoutMembers() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/d")
        try ClusterAssignment.write(clusterID: 7, reason: "restored", directory: "/d", fileSystem: fileSystem)
        #expect(try ClusterAssignment.read(directory: "/d", fileSystem: fileSystem)?.clusterID == 7)
        #expect(try ClusterAssignment.recordedMembers(directory: "/d", fileSystem: fileSystem).isEmpty)
        #expect(try ClusterAssignment.recordedMembers(directory: "/none", fileSystem: fileSystem).isEmpty)
    }

    @Test("a damaged file is refused as corrupt")
    func damaged() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/d")
        try ClusterAssignment.write(clusterID: 7, reason: "r", members: Self.members, directory: "/d", fileSystem: fileSystem)
        var bytes = try fileSystem.readFile("/d/CLUSTER", limit: 1 << 16)
        bytes[bytes.count - 8] ^= 1
        try DurableLog.writeAtomically(bytes, to: "/d/CLUSTER", directory: "/d", fileSystem: fileSystem)
        #expect(throws: StorageError.self) { try ClusterAssignment.recordedMembers(directory: "/d", fileSystem: fileSystem) }
    }
}
