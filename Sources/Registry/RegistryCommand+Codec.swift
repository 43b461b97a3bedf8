import Codec

/// Binary encoding of commands, the payload of Raft log entries.
///
/// Layout: format version (1 byte), command tag (1 byte), then the command's fields; integers are LEB128
/// varints (zig-zag for signed ones), byte strings and strings are length-prefixed. Every field is
/// mandatory, so every proper prefix of a valid encoding is truncated and throws.
extension RegistryCommand {
    /// The command format version, the first byte of every encoding.
    public static let formatVersion: UInt8 = 1

    private enum Tag: UInt8 {
        case put = 1, deleteRange, transaction, grantLease, revokeLease, checkpointLeases, expireLeases
        case registerInstance, updateInstance, deregisterInstance, compact
        /// An update of whatever incarnation is live (no fence); a tag of its own so that entries written
        /// before it existed decode exactly as they did.
        case updateLiveInstance
        /// Every auth command, with a sub-tag of its own (`AuthCommand`'s encoding).
        case auth
        /// The auth revision a client's request was authorized at, then the command (tag and fields); never nested.
        case authChecked
        /// Time passed on the leader for every lease's countdown.
        case elapseLeases
    }

    /// The command as a log entry payload.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: 128)
        writer.write(Self.formatVersion)
        encodeTagged(into: &writer)
        return writer.bytes
    }

    /// The tag, then the command's fields.
    private func encodeTagged(into writer: inout ByteWriter) {
        switch self {
        case .put(let request):
            writer.write(Tag.put.rawValue)
            request.encode(into: &writer)
        case .deleteRange(let request):
            writer.write(Tag.deleteRange.rawValue)
            request.encode(into: &writer)
        case .transaction(let request):
            writer.write(Tag.transaction.rawValue)
            request.encode(into: &writer)
        case .grantLease(let id, let ttl, let grantedAt):
            writer.write(Tag.grantLease.rawValue)
            writer.writeVarint(id?.rawValue ?? 0)
            writer.writeSignedVarint(ttl)
            writer.writeVarint(grantedAt)
        case .revokeLease(let id):
            writer.write(Tag.revokeLease.rawValue)
            writer.writeVarint(id.rawValue)
        case .checkpointLeases(let checkpoints):
            writer.write(Tag.checkpointLeases.rawValue)
            writer.writeVarint(UInt64(checkpoints.count))
            for checkpoint in checkpoints {
                writer.writeVarint(checkpoint.id.rawValue)
                writer.writeSignedVarint(checkpoint.remainingMilliseconds)
            }
        case .elapseLeases(let milliseconds):
            writer.write(Tag.elapseLeases.rawValue)
            writer.writeVarint(milliseconds)
        case .expireLeases(let ids):
            writer.write(Tag.expireLeases.rawValue)
            writer.writeVarint(UInt64(ids.count))
            for id in ids { writer.writeVarint(id.rawValue) }
        case .registerInstance(let instance):
            writer.write(Tag.registerInstance.rawValue)
            instance.encode(into: &writer)
        case .updateInstance(let update):
            writer.write((update.incarnation == nil ? Tag.updateLiveInstance : Tag.updateInstance).rawValue)
            update.encode(into: &writer)
        case .deregisterInstance(let name, let incarnation):
            writer.write(Tag.deregisterInstance.rawValue)
            name.encode(into: &writer)
            writer.write(incarnation != nil)
            writer.writeVarint(incarnation ?? 0)
        case .compact(let revision):
            writer.write(Tag.compact.rawValue)
            writer.writeSignedVarint(revision.rawValue)
        case .auth(let command):
            writer.write(Tag.auth.rawValue)
            command.encode(into: &writer)
        case .authChecked(let authRevision, let command):
            writer.write(Tag.authChecked.rawValue)
            writer.writeVarint(authRevision)
            command.encodeTagged(into: &writer)
        }
    }

    /// Decodes a log entry payload.
    /// - Throws: `CodecError` for an unknown version or tag, a truncated or over-long field (checked
    ///   against `limits` before allocating), non-UTF-8 names, or trailing bytes. Never traps.
    public static func decode(_ bytes: [UInt8], limits: RegistryLimits) throws(CodecError) -> RegistryCommand {
        guard bytes.count <= limits.requestBytes else {
            throw .lengthOverLimit(field: "command", length: UInt64(bytes.count), limit: limits.requestBytes)
        }
        var reader = ByteReader(bytes)
        let version = try reader.readByte("command version")
        guard version == formatVersion else { throw .unknownTag(field: "command version", tag: UInt64(version)) }
        let command = try decodeTagged(from: &reader, limits: limits, insideAuthCheck: false)
        try reader.expectEnd()
        return command
    }

    /// Reads a tag and the command's fields.
    private static func decodeTagged(from reader: inout ByteReader, limits: RegistryLimits, insideAuthCheck: Bool)
        throws(CodecError) -> RegistryCommand
    {
        let rawTag = try reader.readByte("command tag")
        guard let tag = Tag(rawValue: rawTag) else { throw .unknownTag(field: "command tag", tag: UInt64(rawTag)) }
        let command: RegistryCommand
        switch tag {
        case .put: command = .put(try PutRequest(from: &reader, limits: limits))
        case .deleteRange: command = .deleteRange(try DeleteRangeRequest(from: &reader, limits: limits))
        case .transaction: command = .transaction(try TransactionRequest(from: &reader, limits: limits))
        case .grantLease:
            let id = try reader.readVarint("lease id")
            let ttl = try reader.readSignedVarint("ttl")
            let grantedAt = try reader.readVarint("granted at")
            command = .grantLease(id: id == 0 ? nil : LeaseID(id), ttlMilliseconds: ttl, grantedAtMilliseconds: grantedAt)
        case .revokeLease: command = .revokeLease(LeaseID(try reader.readVarint("lease id")))
        case .checkpointLeases:
            let count = try reader.readCount("checkpoints", limit: limits.leaseBatch)
            var checkpoints: [LeaseCheckpoint] = []
            for _ in 0..<count {
                let id = LeaseID(try reader.readVarint("lease id"))
                checkpoints.append(LeaseCheckpoint(id: id, remainingMilliseconds: try reader.readSignedVarint("remaining")))
            }
            command = .checkpointLeases(checkpoints)
        case .elapseLeases: command = .elapseLeases(milliseconds: try reader.readVarint("elapsed milliseconds"))
        case .expireLeases:
            let count = try reader.readCount("expired leases", limit: limits.leaseBatch)
            var ids: [LeaseID] = []
            for _ in 0..<count { ids.append(LeaseID(try reader.readVarint("lease id"))) }
            command = .expireLeases(ids)
        case .registerInstance: command = .registerInstance(try ServiceInstance(from: &reader, limits: limits))
        case .updateInstance: command = .updateInstance(try InstanceUpdate(from: &reader, limits: limits))
        case .updateLiveInstance:
            var update = try InstanceUpdate(from: &reader, limits: limits)
            guard update.incarnation == 0 else {
                throw .invalidValue(field: "incarnation", reason: "set on an update of the live incarnation")
            }
            update.incarnation = nil
            command = .updateInstance(update)
        case .deregisterInstance:
            let name = try InstanceName(from: &reader, limits: limits)
            let hasIncarnation = try reader.readBool("has incarnation")
            let incarnation = try reader.readVarint("incarnation")
            guard hasIncarnation || incarnation == 0 else {
                throw .invalidValue(field: "incarnation", reason: "set without flag")
            }
            command = .deregisterInstance(name, incarnation: hasIncarnation ? incarnation : nil)
        case .compact: command = .compact(Revision(try reader.readSignedVarint("revision")))
        case .auth: command = .auth(try AuthCommand(from: &reader, limits: limits))
        case .authChecked:
            guard !insideAuthCheck else { throw .invalidValue(field: "command", reason: "an auth check inside an auth check") }
            let authRevision = try reader.readVarint("auth revision")
            command = .authChecked(authRevision: authRevision, try decodeTagged(from: &reader, limits: limits, insideAuthCheck: true))
        }
        return command
    }
}

// MARK: - Parts

extension ByteWriter {
    mutating func writeOptionalLease(_ lease: LeaseID?) { writeVarint(lease?.rawValue ?? 0) }
}

extension ByteReader {
    mutating func readOptionalLease(_ field: String) throws(CodecError) -> LeaseID? {
        let raw = try readVarint(field)
        return raw == 0 ? nil : LeaseID(raw)
    }

    mutating func readKey(_ field: String, limits: RegistryLimits) throws(CodecError) -> [UInt8] {
        try readLengthPrefixed(field, limit: limits.keyBytes)
    }
}

extension KeyRange {
    func encode(into writer: inout ByteWriter) {
        switch self {
        case .key(let key):
            writer.write(UInt8(1))
            writer.writeLengthPrefixed(key)
        case .prefix(let prefix):
            writer.write(UInt8(2))
            writer.writeLengthPrefixed(prefix)
        case .interval(let start, let end):
            writer.write(UInt8(3))
            writer.writeLengthPrefixed(start)
            writer.writeLengthPrefixed(end)
        case .fromKey(let key):
            writer.write(UInt8(4))
            writer.writeLengthPrefixed(key)
        }
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        let tag = try reader.readByte("range kind")
        switch tag {
        case 1: self = .key(try reader.readKey("key", limits: limits))
        case 2: self = .prefix(try reader.readKey("prefix", limits: limits))
        case 3:
            let start = try reader.readKey("range start", limits: limits)
            self = .interval(start: start, end: try reader.readKey("range end", limits: limits))
        case 4: self = .fromKey(try reader.readKey("from key", limits: limits))
        default: throw .unknownTag(field: "range kind", tag: UInt64(tag))
        }
    }
}

extension RangeRequest {
    func encode(into writer: inout ByteWriter) {
        range.encode(into: &writer)
        writer.writeSignedVarint(Int64(limit))
        writer.write(countOnly)
        writer.write(keysOnly)
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        range = try KeyRange(from: &reader, limits: limits)
        let rawLimit = try reader.readSignedVarint("range limit")
        guard let limit = Int(exactly: rawLimit) else { throw .invalidValue(field: "range limit", reason: "overflow") }
        self.limit = limit
        countOnly = try reader.readBool("count only")
        keysOnly = try reader.readBool("keys only")
    }
}

extension PutRequest {
    func encode(into writer: inout ByteWriter) {
        writer.writeLengthPrefixed(key)
        writer.writeLengthPrefixed(value)
        writer.writeOptionalLease(lease)
        // One byte of flags; bit 0 alone is what entries written before the ignore flags hold.
        writer.write(UInt8(returnPrevious ? 1 : 0) | (ignoreValue ? 2 : 0) | (ignoreLease ? 4 : 0))
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        key = try reader.readKey("key", limits: limits)
        value = try reader.readLengthPrefixed("value", limit: limits.valueBytes)
        lease = try reader.readOptionalLease("lease")
        let flags = try reader.readByte("put flags")
        guard flags & ~7 == 0 else { throw .unknownTag(field: "put flags", tag: UInt64(flags)) }
        returnPrevious = flags & 1 != 0
        ignoreValue = flags & 2 != 0
        ignoreLease = flags & 4 != 0
    }
}

extension DeleteRangeRequest {
    func encode(into writer: inout ByteWriter) {
        range.encode(into: &writer)
        writer.write(returnPrevious)
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        range = try KeyRange(from: &reader, limits: limits)
        returnPrevious = try reader.readBool("return previous")
    }
}

extension Compare {
    /// Set on the target tag of a range compare, whose range follows the target. A single-key compare is
    /// encoded as before range compares existed, so logs written earlier decode unchanged.
    static let rangeFlag: UInt8 = 0x80

    func encode(into writer: inout ByteWriter) {
        writer.writeLengthPrefixed(key)
        writer.write(relation.rawValue)
        let flag = range == nil ? 0 : Self.rangeFlag
        switch target {
        case .value(let value):
            writer.write(1 | flag)
            writer.writeLengthPrefixed(value)
        case .version(let version):
            writer.write(2 | flag)
            writer.writeSignedVarint(version)
        case .createRevision(let revision):
            writer.write(3 | flag)
            writer.writeSignedVarint(revision.rawValue)
        case .modRevision(let revision):
            writer.write(4 | flag)
            writer.writeSignedVarint(revision.rawValue)
        case .lease(let lease):
            writer.write(5 | flag)
            writer.writeOptionalLease(lease)
        }
        range?.encode(into: &writer)
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        key = try reader.readKey("compare key", limits: limits)
        let rawRelation = try reader.readByte("compare relation")
        guard let relation = Relation(rawValue: rawRelation) else {
            throw .unknownTag(field: "compare relation", tag: UInt64(rawRelation))
        }
        self.relation = relation
        let tag = try reader.readByte("compare target")
        switch tag & ~Self.rangeFlag {
        case 1: target = .value(try reader.readLengthPrefixed("compare value", limit: limits.valueBytes))
        case 2: target = .version(try reader.readSignedVarint("compare version"))
        case 3: target = .createRevision(Revision(try reader.readSignedVarint("compare create revision")))
        case 4: target = .modRevision(Revision(try reader.readSignedVarint("compare mod revision")))
        case 5: target = .lease(try reader.readOptionalLease("compare lease"))
        default: throw .unknownTag(field: "compare target", tag: UInt64(tag))
        }
        range = tag & Self.rangeFlag == 0 ? nil : try KeyRange(from: &reader, limits: limits)
    }
}

extension TransactionOperation {
    func encode(into writer: inout ByteWriter) {
        switch self {
        case .range(let request):
            writer.write(UInt8(1))
            request.encode(into: &writer)
        case .put(let request):
            writer.write(UInt8(2))
            request.encode(into: &writer)
        case .deleteRange(let request):
            writer.write(UInt8(3))
            request.encode(into: &writer)
        case .transaction(let request):
            writer.write(UInt8(4))
            request.encode(into: &writer)
        }
    }

    /// - Parameter budget: Operations a nested transaction may still hold (see `TransactionRequest.init`).
    init(from reader: inout ByteReader, limits: RegistryLimits, budget: Int) throws(CodecError) {
        let tag = try reader.readByte("operation kind")
        switch tag {
        case 1: self = .range(try RangeRequest(from: &reader, limits: limits))
        case 2: self = .put(try PutRequest(from: &reader, limits: limits))
        case 3: self = .deleteRange(try DeleteRangeRequest(from: &reader, limits: limits))
        case 4: self = .transaction(try TransactionRequest(from: &reader, limits: limits, budget: budget))
        default: throw .unknownTag(field: "operation kind", tag: UInt64(tag))
        }
    }
}

extension TransactionRequest {
    func encode(into writer: inout ByteWriter) {
        writer.writeVarint(UInt64(compares.count))
        for compare in compares { compare.encode(into: &writer) }
        writer.writeVarint(UInt64(success.count))
        for operation in success { operation.encode(into: &writer) }
        writer.writeVarint(UInt64(failure.count))
        for operation in failure { operation.encode(into: &writer) }
    }

    /// Decodes a transaction whose compares and branches may each hold up to `budget` entries (the operation
    /// limit for the outermost one). A nested transaction gets what its parent leaves, as etcd's
    /// `checkTxnRequest` counts them, so nesting is as bounded as the operation count and decoding recurses
    /// at most that deep, whatever the bytes say.
    init(from reader: inout ByteReader, limits: RegistryLimits, budget: Int? = nil) throws(CodecError) {
        let budget = budget ?? limits.transactionOperations
        let compareCount = try reader.readCount("compares", limit: max(budget, 0))
        compares = []
        for _ in 0..<compareCount { compares.append(try Compare(from: &reader, limits: limits)) }
        let successCount = try reader.readCount("success operations", limit: max(budget, 0))
        success = []
        // The failure count is not known yet: a nested transaction of this branch gets what the compares and
        // this branch leave (at least what `TransactionRequest.shapeRejection` allows it, so every transaction
        // that passes it decodes); any non-empty branch lowers the budget, so the nesting ends.
        let nestedBudget = budget - max(compareCount, successCount)
        for _ in 0..<successCount {
            success.append(try TransactionOperation(from: &reader, limits: limits, budget: nestedBudget))
        }
        let failureCount = try reader.readCount("failure operations", limit: max(budget, 0))
        failure = []
        let failureBudget = budget - max(compareCount, successCount, failureCount)
        for _ in 0..<failureCount {
            failure.append(try TransactionOperation(from: &reader, limits: limits, budget: failureBudget))
        }
    }
}

extension InstanceName {
    func encode(into writer: inout ByteWriter) {
        writer.writeString(namespace)
        writer.writeString(service)
        writer.writeString(id)
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        namespace = try reader.readString("namespace", limit: limits.nameBytes)
        service = try reader.readString("service", limit: limits.nameBytes)
        id = try reader.readString("id", limit: limits.nameBytes)
    }
}

extension InstanceUpdate {
    func encode(into writer: inout ByteWriter) {
        name.encode(into: &writer)
        writer.writeVarint(incarnation ?? 0)
        writer.write(status?.rawValue ?? 0)
        writer.write(metadata != nil)
        if let metadata { writeMetadata(metadata, into: &writer) }
        writer.write(weight != nil)
        writer.writeVarint(UInt64(weight ?? 0))
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        name = try InstanceName(from: &reader, limits: limits)
        incarnation = try reader.readVarint("incarnation")
        let rawStatus = try reader.readByte("status")
        if rawStatus == 0 {
            status = nil
        } else {
            guard let status = InstanceStatus(rawValue: rawStatus) else {
                throw .unknownTag(field: "status", tag: UInt64(rawStatus))
            }
            self.status = status
        }
        metadata = try reader.readBool("has metadata") ? try readMetadata(from: &reader, limits: limits) : nil
        let hasWeight = try reader.readBool("has weight")
        let rawWeight = try reader.readVarint("weight")
        guard rawWeight <= UInt64(UInt32.max), hasWeight || rawWeight == 0 else {
            throw .invalidValue(field: "weight", reason: "\(rawWeight) out of range or set without flag")
        }
        weight = hasWeight ? UInt32(rawWeight) : nil
    }
}

extension KeyValue {
    func encode(into writer: inout ByteWriter) {
        writer.writeLengthPrefixed(key)
        writer.writeLengthPrefixed(value)
        writer.writeSignedVarint(createRevision.rawValue)
        writer.writeSignedVarint(modRevision.rawValue)
        writer.writeSignedVarint(version)
        writer.writeOptionalLease(lease)
        writeRole(into: &writer)
    }

    /// Bit 0: instance record; bit 1: a layout source, then its mirror keys; bit 2: a layout mirror, then its
    /// source key. Records outside layouts encode as they did before layouts existed (0 or 1).
    private func writeRole(into writer: inout ByteWriter) {
        var flags: UInt8 = isInstance ? 1 : 0
        switch layoutLink {
        case nil: writer.write(flags)
        case .source(let mirrors):
            flags |= 2
            writer.write(flags)
            writer.writeVarint(UInt64(mirrors.count))
            for mirror in mirrors { writer.writeLengthPrefixed(mirror) }
        case .mirror(let source):
            flags |= 4
            writer.write(flags)
            writer.writeLengthPrefixed(source)
        }
    }

    /// Most mirrors one source can have: one per layout, and there are far fewer layouts than this.
    static let maximumMirrors = 64

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        key = try reader.readKey("key", limits: limits)
        guard !key.isEmpty else { throw .invalidValue(field: "key", reason: "empty") }
        value = try reader.readLengthPrefixed("value", limit: limits.valueBytes)
        createRevision = Revision(try reader.readSignedVarint("create revision"))
        modRevision = Revision(try reader.readSignedVarint("mod revision"))
        version = try reader.readSignedVarint("version")
        lease = try reader.readOptionalLease("lease")
        let flags = try reader.readByte("record role")
        guard flags & ~7 == 0, flags & 6 != 6 else { throw .unknownTag(field: "record role", tag: UInt64(flags)) }
        isInstance = flags & 1 != 0
        if flags & 2 != 0 {
            let count = try reader.readCount("layout mirrors", limit: Self.maximumMirrors)
            var mirrors: [[UInt8]] = []
            for _ in 0..<count { mirrors.append(try reader.readKey("layout mirror", limits: limits)) }
            layoutLink = .source(mirrors: mirrors)
        } else if flags & 4 != 0 {
            layoutLink = .mirror(of: try reader.readKey("layout source", limits: limits))
        } else {
            layoutLink = nil
        }
        guard createRevision.rawValue > 0, createRevision <= modRevision, version > 0 else {
            throw .invalidValue(field: "key revisions", reason: "create \(createRevision) mod \(modRevision) version \(version)")
        }
    }
}

extension RegistryEvent {
    func encode(into writer: inout ByteWriter) {
        writer.writeSignedVarint(revision.rawValue)
        writer.write(kind.rawValue)
        writer.write(cause.rawValue)
        writer.writeLengthPrefixed(key)
        writer.write(current != nil)
        current?.encode(into: &writer)
        writer.write(previous != nil)
        previous?.encode(into: &writer)
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        revision = Revision(try reader.readSignedVarint("event revision"))
        let rawKind = try reader.readByte("event kind")
        guard let kind = Kind(rawValue: rawKind) else { throw .unknownTag(field: "event kind", tag: UInt64(rawKind)) }
        self.kind = kind
        let rawCause = try reader.readByte("event cause")
        guard let cause = Cause(rawValue: rawCause) else { throw .unknownTag(field: "event cause", tag: UInt64(rawCause)) }
        self.cause = cause
        key = try reader.readKey("event key", limits: limits)
        current = try reader.readBool("has current") ? try KeyValue(from: &reader, limits: limits) : nil
        previous = try reader.readBool("has previous") ? try KeyValue(from: &reader, limits: limits) : nil
        guard (kind == .put) == (current != nil), kind == .put || previous != nil else {
            throw .invalidValue(field: "event", reason: "kind does not match its values")
        }
    }
}
