// Goal: damage that is not a torn tail stops the node with an error naming the file and the offset
// of the damaged record, and never turns into silently dropped entries. Method: build a log of
// several segments, then flip a seeded random bit in a random record that is not the last one, or
// forge records whose checksums are valid but whose length or index is impossible, or remove
// segments, and reopen.
import Codec
import Raft
import Testing

@testable import Storage

@Suite("Corruption")
struct CorruptionTests {
    /// Entries 1...40 with hard states, across several small segments.
    static func multiSegmentLog() throws -> (SimulatedFileSystem, [String]) {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        for index in 1...40 as ClosedRange<UInt64> {
            try log.append(hardState: HardState(term: Term(1), commit: LogIndex(index - 1)), entries: [entry(index)])
            if index % 3 == 0 { try log.sync() }
        }
        try log.sync()
        let paths = log.segmentPaths
        log.close()
        return (fileSystem, paths)
    }

    @Test("a flipped bit in any record but the very last is reported with its file and offset", arguments: 0..<40)
    func bitFlip(seed: UInt64) throws {
        var random = TestRandom(seed: seed)
        let (fileSystem, paths) = try Self.multiSegmentLog()
        #expect(paths.count >= 3)
        let path = paths[Int(random.next() % UInt64(paths.count))]
        var bytes = try fileSystem.readFile(path, limit: 1 << 20)
        var candidates = try records(in: bytes).map(\.offset)
        if path == paths.last { candidates.removeLast() }
        let start = candidates[Int(random.next() % UInt64(candidates.count))]
        let end = try records(in: bytes).first { $0.offset > start }?.offset ?? bytes.count
        let position = start + Int(random.next() % UInt64(end - start))
        bytes[position] ^= UInt8(1) << (random.next() % 8)
        try fileSystem.overwrite(path, with: bytes)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .corrupt(let reportedPath, let offset, _) = error as? StorageError else { return false }
            return reportedPath == path && offset == start
        }
    }

    @Test("a flipped bit in the last record is either cut as a torn tail or refused, never misread", arguments: 0..<20)
    func bitFlipInLastRecord(seed: UInt64) throws {
        var random = TestRandom(seed: seed)
        let (fileSystem, paths) = try Self.multiSegmentLog()
        let path = try #require(paths.last)
        var bytes = try fileSystem.readFile(path, limit: 1 << 20)
        let last = try #require(try records(in: bytes).last)
        let position = last.offset + Int(random.next() % UInt64(bytes.count - last.offset))
        bytes[position] ^= UInt8(1) << (random.next() % 8)
        try fileSystem.overwrite(path, with: bytes)
        do {
            let (log, state) = try openLog(fileSystem)
            #expect(log.recoveryReport.truncatedTail?.offset == last.offset)
            #expect(state.entries == entries(1...40))  // the last record is the hard state after entry 40
        } catch .corrupt(let reportedPath, let offset, _) {
            #expect(reportedPath == path && offset == last.offset)
        }
    }

    @Test("a forged length with a valid header checksum is refused before allocation")
    func forgedLength() throws {
        let (fileSystem, paths) = try Self.multiSegmentLog()
        let path = try #require(paths.last)
        let bytes = try fileSystem.readFile(path, limit: 1 << 20)
        var writer = ByteWriter()
        writer.writeFixed(UInt32(1 << 31))
        writer.write(WALRecord.Kind.entry.rawValue)
        writer.writeFixed(UInt32(0))
        writer.writeFixed(CRC32C.checksum(writer.bytes))
        try fileSystem.overwrite(path, with: bytes + writer.bytes + [1, 2, 3])
        #expect(
            throws: StorageError.corrupt(
                path: path, offset: bytes.count, reason: "record length 2147483648 over the 4096-byte limit")
        ) {
            try openLog(fileSystem)
        }
    }

    @Test("a record with a valid checksum but an impossible index is refused")
    func impossibleIndex() throws {
        let (fileSystem, paths) = try Self.multiSegmentLog()
        let path = try #require(paths.last)
        let bytes = try fileSystem.readFile(path, limit: 1 << 20)
        let forged = RecordFrame.encode(.entry(entry(45)))
        try fileSystem.overwrite(path, with: bytes + forged + RecordFrame.encode(.entry(entry(46))))
        #expect(
            throws: StorageError.impossibleIndex(
                path: path, offset: bytes.count, reason: "entry 45 does not follow last index 40")
        ) {
            try openLog(fileSystem)
        }
    }

    @Test("a missing segment in the middle of the sequence is refused")
    func missingMiddleSegment() throws {
        let (fileSystem, paths) = try Self.multiSegmentLog()
        try fileSystem.remove(paths[1])
        try fileSystem.syncDirectory(dataDirectory)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .missingFile(let path, _) = error as? StorageError else { return false }
            return path == paths[1]
        }
    }

    @Test("an extra segment beyond a gap in the numbering is refused")
    func extraSegment() throws {
        let (fileSystem, paths) = try Self.multiSegmentLog()
        let stray = dataDirectory.appendingPathComponent(DataDirectory.segmentName(sequence: UInt64(paths.count + 2)))
        fileSystem.close(try fileSystem.open(stray, create: true))
        try fileSystem.syncDirectory(dataDirectory)
        let gap = dataDirectory.appendingPathComponent(DataDirectory.segmentName(sequence: UInt64(paths.count + 1)))
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .missingFile(let path, _) = error as? StorageError else { return false }
            return path == gap
        }
    }

    @Test("a missing newest segment is caught by its predecessor's seal")
    func missingLastSegment() throws {
        let (fileSystem, paths) = try Self.multiSegmentLog()
        let last = try #require(paths.last)
        try fileSystem.remove(last)
        try fileSystem.syncDirectory(dataDirectory)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .missingFile(let path, _) = error as? StorageError else { return false }
            return path == last
        }
    }

    @Test("zeros after a sealed segment's seal are its unwritten reserved space")
    func zerosAfterSeal() throws {
        let (fileSystem, paths) = try Self.multiSegmentLog()
        let bytes = try fileSystem.readFile(paths[0], limit: 1 << 20)
        // A sealed segment was cut to its records; only the newest keeps reserved space.
        #expect(try fileSystem.status(paths[0])?.size == bytes.count)
        #expect(try fileSystem.status(paths[paths.count - 1])?.size == smallSegments.segmentBytes)
        try fileSystem.overwrite(paths[0], with: bytes + [UInt8](repeating: 0, count: 300))
        let (log, state) = try openLog(fileSystem)
        #expect(state.entries == entries(1...40))
        #expect(log.recoveryReport.truncatedTail == nil)
    }

    @Test("a segment that is not the last, whose seal reads as zeros, is refused")
    func zeroedSeal() throws {
        let (fileSystem, paths) = try Self.multiSegmentLog()
        var bytes = try fileSystem.readFile(paths[0], limit: 1 << 20)
        let seal = try #require(try records(in: bytes).last)
        for position in seal.offset..<bytes.count { bytes[position] = 0 }
        try fileSystem.overwrite(paths[0], with: bytes)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .corrupt(let path, _, let reason) = error as? StorageError else { return false }
            return path == paths[0] && reason.contains("without a seal")
        }
    }

    @Test("a missing first segment with no snapshot to cover it is refused")
    func missingFirstSegment() throws {
        let (fileSystem, paths) = try Self.multiSegmentLog()
        try fileSystem.remove(paths[0])
        try fileSystem.syncDirectory(dataDirectory)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .missingFile = error as? StorageError else { return false }
            return true
        }
    }

    @Test("a segment written for another member is refused")
    func foreignSegment() throws {
        let (fileSystem, paths) = try Self.multiSegmentLog()
        let stranger = StorageIdentity(clusterID: 0xC1, memberID: 2)
        let next = DataDirectory.segmentName(sequence: UInt64(paths.count + 1))
        let path = dataDirectory.appendingPathComponent(next)
        let file = try fileSystem.open(path, create: true)
        try fileSystem.append(
            DurableLog.segmentPreamble(
                identity: stranger, sequence: UInt64(paths.count + 1), firstIndex: LogIndex(41), hardState: HardState()),
            to: file)
        try fileSystem.sync(file)
        try fileSystem.syncDirectory(dataDirectory)
        #expect(throws: StorageError.identityMismatch(path: path, expected: testIdentity, found: stranger)) {
            try openLog(fileSystem)
        }
    }
}
