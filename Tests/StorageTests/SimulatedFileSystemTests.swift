// Goal: the simulated disk loses exactly what a real one may lose in a power cut, deterministically,
// since every other crash test trusts it. Method: small scripted sequences of writes, fsyncs,
// creates and renames, then `crash()` or `crash(keepingRandomPrefixOf:)`, checking what remains.
import Testing

@testable import Storage

@Suite("SimulatedFileSystem")
struct SimulatedFileSystemTests {
    static func disk() throws -> SimulatedFileSystem {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/d")
        return fileSystem
    }

    @Test("fsynced bytes survive a crash and unsynced bytes do not")
    func fileData() throws {
        let fileSystem = try Self.disk()
        let file = try fileSystem.open("/d/f", create: true)
        try fileSystem.syncDirectory("/d")
        try fileSystem.append([1, 2, 3], to: file)
        try fileSystem.sync(file)
        try fileSystem.append([4, 5], to: file)
        fileSystem.crash()
        #expect(try fileSystem.readFile("/d/f", limit: 100) == [1, 2, 3])
    }

    @Test("a created file is lost in a crash unless its directory was fsynced")
    func createNeedsDirectorySync() throws {
        let fileSystem = try Self.disk()
        let kept = try fileSystem.open("/d/kept", create: true)
        try fileSystem.sync(kept)
        try fileSystem.syncDirectory("/d")
        let lost = try fileSystem.open("/d/lost", create: true)
        try fileSystem.append([1], to: lost)
        try fileSystem.sync(lost)
        fileSystem.crash()
        #expect(try fileSystem.listDirectory("/d") == ["kept"])
    }

    @Test("a rename not followed by a directory fsync is undone by a crash")
    func renameNeedsDirectorySync() throws {
        let fileSystem = try Self.disk()
        let file = try fileSystem.open("/d/a.tmp", create: true)
        try fileSystem.append([7], to: file)
        try fileSystem.sync(file)
        try fileSystem.syncDirectory("/d")
        try fileSystem.rename("/d/a.tmp", to: "/d/a")
        fileSystem.crash()
        #expect(try fileSystem.listDirectory("/d") == ["a.tmp"])
        try fileSystem.rename("/d/a.tmp", to: "/d/a")
        try fileSystem.syncDirectory("/d")
        fileSystem.crash()
        #expect(try fileSystem.listDirectory("/d") == ["a"])
        #expect(try fileSystem.readFile("/d/a", limit: 10) == [7])
    }

    @Test(
        "a torn crash keeps the synced bytes plus some prefix of the rest, the same for the same seed",
        arguments: 0..<20)
    func tornCrash(seed: UInt64) throws {
        func run() throws -> [UInt8] {
            let fileSystem = try Self.disk()
            let file = try fileSystem.open("/d/f", create: true)
            try fileSystem.append([1, 2, 3, 4], to: file)
            try fileSystem.sync(file)
            try fileSystem.syncDirectory("/d")
            try fileSystem.append(Array(5...40), to: file)
            fileSystem.crash(keepingRandomPrefixOf: seed)
            return try fileSystem.readFile("/d/f", limit: 100)
        }
        let bytes = try run()
        #expect(try run() == bytes)
        #expect(bytes.starts(with: [1, 2, 3, 4]))
        let full = Array(1...40) as [UInt8]
        for (position, byte) in bytes.enumerated() { #expect(byte == full[position] || byte == 0) }
    }

    @Test("handles from before a crash are dead afterwards")
    func staleHandles() throws {
        let fileSystem = try Self.disk()
        let file = try fileSystem.open("/d/f", create: true)
        fileSystem.crash()
        #expect(throws: StorageError.self) { try fileSystem.append([1], to: file) }
    }

    @Test("an injected fault fails exactly the next write or fsync")
    func injectedFaults() throws {
        let fileSystem = try Self.disk()
        let file = try fileSystem.open("/d/f", create: true)
        fileSystem.failNextSync(with: .diskFull)
        #expect(throws: StorageError.diskFull(path: "/d/f", offset: 0)) { try fileSystem.sync(file) }
        try fileSystem.sync(file)
        fileSystem.failNextWrite(with: .ioError, keepingBytes: 2)
        #expect(throws: StorageError.self) { try fileSystem.append([1, 2, 3], to: file) }
        #expect(try fileSystem.readFile("/d/f", limit: 10) == [1, 2])
    }
}
