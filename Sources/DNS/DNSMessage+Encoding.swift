extension DNSMessage {
    /// The message on the wire, names compressed, with no size limit beyond DNS's own (65,535 bytes: records
    /// past it are left out and TC is set).
    public func encoded() -> [UInt8] {
        encoded(limit: 65_535)
    }

    /// The message in at most `limit` bytes (at least 512 is sensible). Questions and the OPT record always
    /// go in; answer and authority records go in whole, in order, while they fit, and the first that does
    /// not sets TC (RFC 2181 §9) so the client retries over TCP; additional records that do not fit are
    /// left out without TC, as they are optional.
    public func encoded(limit: Int) -> [UInt8] {
        var writer = DNSWriter()
        var header = self.header
        writer.writeUInt16(header.id)
        writer.writeUInt16(0)  // flags, patched below once TC is known
        writer.writeUInt16(UInt16(clamping: questions.count))
        writer.writeUInt16(0)
        writer.writeUInt16(0)
        writer.writeUInt16(0)
        for question in questions {
            writer.writeName(question.name)
            writer.writeUInt16(question.type.rawValue)
            writer.writeUInt16(question.rawClass)
        }
        let opt = additionals.first { $0.type == .opt }
        let reserved = opt.map { DNSWriter.uncompressedLength(of: $0) } ?? 0
        let budget = max(writer.bytes.count, limit - reserved)
        var counts: [UInt16] = [0, 0, 0]
        var isCut = false
        for (section, records) in [answers, authorities].enumerated() where !isCut {
            for record in records {
                guard writer.append(record, within: budget) else {
                    isCut = true
                    break
                }
                counts[section] += 1
            }
        }
        if isCut { header.isTruncated = true }
        if !isCut {
            for record in additionals where record.type != .opt {
                guard writer.append(record, within: budget) else { break }
                counts[2] += 1
            }
        }
        if let opt {
            _ = writer.append(opt, within: Int.max)
            counts[2] += 1
        }
        writer.patchUInt16(at: 2, header.flags)
        for (index, count) in counts.enumerated() { writer.patchUInt16(at: 6 + 2 * index, count) }
        return writer.bytes
    }
}

/// Builds a message's bytes, compressing names (RFC 1035 §4.1.4): every suffix written at an offset a
/// pointer can reach (below 0x4000) is remembered by a hash of its case-folded labels, and a later name
/// ending in it points there once the bytes at that offset are checked to spell the same suffix (so a hash
/// collision costs compression, never correctness). A 64-bit hash rather than the labels themselves as the
/// key: hashing nested arrays byte by byte was most of the cost of an answer.
struct DNSWriter {
    private(set) var bytes: [UInt8] = []
    private var suffixes: [UInt64: Int] = [:]
    /// Suffixes remembered since the record being appended began, forgotten again if it is taken back.
    private var added: [UInt64] = []

    init() {
        bytes.reserveCapacity(512)
    }

    mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    mutating func writeUInt32(_ value: UInt32) {
        writeUInt16(UInt16(value >> 16))
        writeUInt16(UInt16(value & 0xFFFF))
    }

    mutating func patchUInt16(at offset: Int, _ value: UInt16) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(value & 0xFF)
    }

    /// Writes `name`, as a pointer to an earlier copy of its longest already-written suffix when there is one.
    mutating func writeName(_ name: DNSName, compress: Bool = true) {
        let hashes = Self.suffixHashes(name)
        for index in name.labels.indices {
            let hash = hashes[index]
            if let target = suffixes[hash] {
                if compress, spells(name.labels[index...], at: target) {
                    writeUInt16(0xC000 | UInt16(target))
                    return
                }
            } else if bytes.count < 0x4000 {
                suffixes[hash] = bytes.count
                added.append(hash)
            }
            bytes.append(UInt8(name.labels[index].count))
            bytes.append(contentsOf: name.labels[index])
        }
        bytes.append(0)
    }

    /// FNV-1a over the case-folded labels of every suffix, built right to left: `[i]` covers `labels[i...]`.
    static func suffixHashes(_ name: DNSName) -> [UInt64] {
        var hashes = [UInt64](repeating: 0, count: name.labels.count)
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for index in name.labels.indices.reversed() {
            let label = name.labels[index]
            hash = (hash ^ UInt64(label.count)) &* 0x0000_0100_0000_01B3
            for byte in label { hash = (hash ^ UInt64(DNSName.lower(byte))) &* 0x0000_0100_0000_01B3 }
            hashes[index] = hash
        }
        return hashes
    }

    /// Whether the name written at `offset` (following this writer's own, backward, pointers) is `labels`,
    /// compared without case.
    private func spells(_ labels: ArraySlice<[UInt8]>, at offset: Int) -> Bool {
        var position = offset
        var next = labels.startIndex
        for _ in 0..<(DNSName.wireBytesLimit + DNSMessage.pointerHopsLimit) {
            guard position < bytes.count else { return false }
            let length = Int(bytes[position])
            if length & 0xC0 == 0xC0 {
                guard position + 1 < bytes.count else { return false }
                position = (length & 0x3F) << 8 | Int(bytes[position + 1])
                continue
            }
            if length == 0 { return next == labels.endIndex }
            guard next < labels.endIndex, labels[next].count == length, position + 1 + length <= bytes.count else {
                return false
            }
            for (index, byte) in labels[next].enumerated()
            where DNSName.lower(byte) != DNSName.lower(bytes[position + 1 + index]) {
                return false
            }
            position += 1 + length
            next += 1
        }
        return false
    }

    /// Appends `record` if the message stays within `budget` bytes; otherwise leaves the writer as it was
    /// (bytes and remembered suffixes) and returns false.
    mutating func append(_ record: DNSRecord, within budget: Int) -> Bool {
        let start = bytes.count
        added.removeAll(keepingCapacity: true)
        write(record)
        guard bytes.count <= budget else {
            bytes.removeSubrange(start...)
            for suffix in added { suffixes[suffix] = nil }
            return false
        }
        return true
    }

    private mutating func write(_ record: DNSRecord) {
        writeName(record.name)
        writeUInt16(record.type.rawValue)
        writeUInt16(record.rawClass)
        writeUInt32(record.ttl)
        let lengthAt = bytes.count
        writeUInt16(0)
        switch record.data {
        case .a(let address), .aaaa(let address), .other(let address):
            bytes.append(contentsOf: address)
        case .srv(let srv):
            writeUInt16(srv.priority)
            writeUInt16(srv.weight)
            writeUInt16(srv.port)
            // RFC 2782: the target is not compressed.
            writeName(srv.target, compress: false)
        case .txt(let strings):
            for string in strings {
                bytes.append(UInt8(min(string.count, 255)))
                bytes.append(contentsOf: string.prefix(255))
            }
        case .soa(let soa):
            writeName(soa.primary)
            writeName(soa.mailbox)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writeUInt32(value) }
        case .name(let name):
            writeName(name)
        case .opt(let options):
            for option in options {
                writeUInt16(option.code)
                writeUInt16(UInt16(clamping: option.data.count))
                bytes.append(contentsOf: option.data.prefix(65_535))
            }
        }
        patchUInt16(at: lengthAt, UInt16(clamping: bytes.count - lengthAt - 2))
    }

    /// The bytes `record` takes without compression: an upper bound for reserving room.
    static func uncompressedLength(of record: DNSRecord) -> Int {
        var writer = DNSWriter()
        writer.write(record)
        return writer.bytes.count
    }
}
