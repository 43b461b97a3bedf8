import Codec

/// One registered endpoint of a service: the typed record Roster keeps under `<namespace>/<service>/<id>`.
///
/// The record is stored in the revisioned key space like any key, so it gets a create/mod revision, a
/// version, watch events and transactions for free; `RegistryState` keeps the typed view consistent
/// (instance counts per service, fencing, causes on events).
///
/// ## Mapping from the frameworks users come from
/// - go-kratos `ServiceInstance{ID, Name, Version, Metadata, Endpoints}`: `id`, `service`, `version`,
///   `metadata`, `endpoints` one to one; kratos' key prefix (`/microservices`) becomes `namespace`, and its
///   per-registration etcd lease becomes `lease`.
/// - kitex `{network, address, weight, tags}` under `{prefix}/{service}{addr}`: one endpoint
///   `"<network>://<address>"` (for example `tcp://10.0.0.5:8888`), `weight` as is (kitex' default 10),
///   `tags` as `metadata`; the address is the natural `id`.
/// - vine `Service{Name, Version, Metadata, Endpoints, Nodes, TTL}` with `Node{Id, Address, Metadata}`:
///   each node becomes one instance (`id` = node ID, endpoint from its address, node metadata merged over
///   service metadata); vine's endpoint *descriptions* (RPC method signatures) are not endpoints here and
///   belong in metadata if needed; its TTL is a lease.
/// - gocomponents `Instance{Id, Host, HostName, Port, ServiceName, Meta}`: `id`, an endpoint
///   `"http://<Host>:<Port>"`, `service`, `metadata` (plus `hostname` as a metadata entry); its heartbeat
///   interval becomes the lease TTL.
///
/// None of those models has `status` (take out of rotation without deregistering, like Eureka's
/// `OUT_OF_SERVICE`) or `incarnation` (fencing of stale re-registrations): clients that do not know them
/// leave `status = .up` and use the start time or a restart counter as incarnation.
public struct ServiceInstance: Equatable, Sendable {
    /// Tenant or environment, the first key segment: `[A-Za-z0-9._-]`, 1…`nameBytes` bytes.
    public var namespace: String
    /// Service name, the second key segment: `[A-Za-z0-9._-]`, 1…`nameBytes` bytes.
    public var service: String
    /// Instance ID, unique within the service: `[A-Za-z0-9._:@-]`, 1…`nameBytes` bytes.
    public var id: String
    /// Free-form build version (may be empty), up to `versionBytes` bytes without control characters.
    public var version: String
    /// URLs such as `grpc://10.0.0.5:9000`, in the order the instance prefers them.
    public var endpoints: [String]
    /// Free-form labels; encoded in key order so that equal maps give equal bytes.
    public var metadata: [String: String]
    /// Relative load-balancing weight; 0 means "send nothing new".
    public var weight: UInt32
    /// Whether the instance takes new work.
    public var status: InstanceStatus
    /// The lease whose expiry removes the instance; nil for a persistent instance.
    public var lease: LeaseID?
    /// Fencing token chosen by the registering process and increasing across its restarts (a boot counter
    /// or start time). A register, update or deregister carrying a lower incarnation than the live record
    /// is rejected, so a stale process that wakes up after its successor registered can never overwrite or
    /// remove the successor. An equal incarnation re-registers (retries are idempotent). Once the record
    /// is gone (deregistered or expired) any incarnation may register again.
    public var incarnation: UInt64

    public init(
        namespace: String, service: String, id: String, version: String = "", endpoints: [String] = [],
        metadata: [String: String] = [:], weight: UInt32 = 100, status: InstanceStatus = .up,
        lease: LeaseID? = nil, incarnation: UInt64 = 0
    ) {
        self.namespace = namespace
        self.service = service
        self.id = id
        self.version = version
        self.endpoints = endpoints
        self.metadata = metadata
        self.weight = weight
        self.status = status
        self.lease = lease
        self.incarnation = incarnation
    }

    /// The instance's name, which decides its key.
    public var name: InstanceName { InstanceName(namespace: namespace, service: service, id: id) }
}

/// Whether an instance takes new work.
public enum InstanceStatus: UInt8, Sendable, CaseIterable {
    /// Serving: route new requests to it.
    case up = 1
    /// Shutting down or out of rotation: finish in-flight work, route nothing new.
    case draining = 2
}

extension ServiceInstance {
    /// The rejection for an invalid instance, if any (the service-size limit is checked by the state).
    public func validate(limits: RegistryLimits) -> RegistryRejection? {
        if let rejection = name.validate(limits: limits) { return rejection }
        if let rejection = RegistryValidation.version(version, limits: limits) { return rejection }
        if endpoints.count > limits.endpointsPerInstance {
            return .tooManyEndpoints(count: endpoints.count, limit: limits.endpointsPerInstance)
        }
        for endpoint in endpoints {
            if let rejection = RegistryValidation.endpoint(endpoint, limits: limits) { return rejection }
        }
        if let rejection = RegistryValidation.metadata(metadata, limits: limits) { return rejection }
        if lease == LeaseID(0) { return .invalidLeaseID }
        return nil
    }
}


// MARK: - Encoding

extension ServiceInstance {
    /// Format version of the instance encoding stored as the record's value.
    static let formatVersion: UInt8 = 1

    /// The instance as stored in its record's value: deterministic (metadata in key byte order).
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: 96 + metadata.count * 32)
        encode(into: &writer)
        return writer.bytes
    }

    func encode(into writer: inout ByteWriter) {
        writer.write(Self.formatVersion)
        writer.writeString(namespace)
        writer.writeString(service)
        writer.writeString(id)
        writer.writeString(version)
        writer.writeVarint(UInt64(endpoints.count))
        for endpoint in endpoints { writer.writeString(endpoint) }
        writeMetadata(metadata, into: &writer)
        writer.writeVarint(UInt64(weight))
        writer.write(status.rawValue)
        writer.writeVarint(lease?.rawValue ?? 0)
        writer.writeVarint(incarnation)
    }

    /// Decodes an instance value, checking every length against `limits` before allocating.
    public init(encoded bytes: [UInt8], limits: RegistryLimits) throws(CodecError) {
        var reader = ByteReader(bytes)
        try self.init(from: &reader, limits: limits)
        try reader.expectEnd()
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        let format = try reader.readByte("instance format")
        guard format == Self.formatVersion else { throw .unknownTag(field: "instance format", tag: UInt64(format)) }
        namespace = try reader.readString("namespace", limit: limits.nameBytes)
        service = try reader.readString("service", limit: limits.nameBytes)
        id = try reader.readString("id", limit: limits.nameBytes)
        version = try reader.readString("version", limit: limits.versionBytes)
        let endpointCount = try reader.readCount("endpoints", limit: limits.endpointsPerInstance)
        endpoints = []
        for _ in 0..<endpointCount { endpoints.append(try reader.readString("endpoint", limit: limits.endpointBytes)) }
        metadata = try readMetadata(from: &reader, limits: limits)
        let rawWeight = try reader.readVarint("weight")
        guard rawWeight <= UInt64(UInt32.max) else {
            throw .invalidValue(field: "weight", reason: "\(rawWeight) exceeds UInt32")
        }
        weight = UInt32(rawWeight)
        let rawStatus = try reader.readByte("status")
        guard let status = InstanceStatus(rawValue: rawStatus) else {
            throw .unknownTag(field: "status", tag: UInt64(rawStatus))
        }
        self.status = status
        let rawLease = try reader.readVarint("lease")
        lease = rawLease == 0 ? nil : LeaseID(rawLease)
        incarnation = try reader.readVarint("incarnation")
    }
}

extension ServiceInstance {
    /// Whether `bytes` decode as an instance under `limits`, exactly when `init(encoded:limits:)` would
    /// succeed, but without building its strings, arrays and dictionary: snapshot restore checks every
    /// instance record this way, which at 100,000 instances saves most of the restore time. Mirrors
    /// `init(from:limits:)` step by step; a test holds the two to the same verdict on valid and damaged input.
    ///
    /// Reads through `WellFormedCursor` rather than `ByteReader`: callgrind, restoring 100,000 instances, put
    /// the `ByteReader` version at 2,800 instructions a record (a slice and its retain per string, calls into
    /// another module per field), over a quarter of the whole restore; the cursor takes 1,100.
    public static func isWellFormedEncoding(_ bytes: [UInt8], limits: RegistryLimits) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var cursor = WellFormedCursor(buffer)
            return cursor.isWellFormedInstance(limits: limits)
        }
    }
}

/// A cursor that only checks that fields are well formed, reading them as `ByteReader` does but answering nil
/// for anything `ByteReader` would throw on.
private struct WellFormedCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Position of the next byte to read. Invariant: `offset <= bytes.count`.
    private var offset = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// `init(from:limits:)`'s reads in its order, each field checked as it checks it.
    mutating func isWellFormedInstance(limits: RegistryLimits) -> Bool {
        guard byte() == ServiceInstance.formatVersion,
            string(limit: limits.nameBytes) != nil,
            string(limit: limits.nameBytes) != nil,
            string(limit: limits.nameBytes) != nil,
            string(limit: limits.versionBytes) != nil,
            let endpointCount = count(limit: limits.endpointsPerInstance)
        else { return false }
        for _ in 0..<endpointCount {
            guard string(limit: limits.endpointBytes) != nil else { return false }
        }
        guard let metadataCount = count(limit: limits.metadataEntries) else { return false }
        var previousKey: Range<Int>? = nil
        for _ in 0..<metadataCount {
            guard let key = string(limit: limits.metadataEntryBytes), string(limit: limits.metadataEntryBytes) != nil
            else { return false }
            // Strictly ascending keys, as `readMetadata` requires.
            if let previousKey, !bytes[previousKey].lexicographicallyPrecedes(bytes[key]) { return false }
            previousKey = key
        }
        guard let weight = varint(), weight <= UInt64(UInt32.max),
            let status = byte(), InstanceStatus(rawValue: status) != nil,
            varint() != nil,  // lease
            varint() != nil  // incarnation
        else { return false }
        return offset == bytes.count
    }

    mutating func byte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// `ByteReader.readVarint`'s rules: at most ten bytes, no bits past 64.
    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }

    /// `ByteReader.readCount`'s rules.
    mutating func count(limit: Int) -> Int? {
        guard let raw = varint(), raw <= UInt64(limit) else { return nil }
        return Int(raw)
    }

    /// The range of a length-prefixed string within `limit` bytes that is valid UTF-8 (the check
    /// `ByteReader.readString` makes).
    mutating func string(limit: Int) -> Range<Int>? {
        guard let length = count(limit: limit), length <= bytes.count - offset else { return nil }
        let range = offset..<(offset + length)
        offset += length
        let text = UnsafeBufferPointer(rebasing: bytes[range])
        guard Self.isASCII(text) || UTF8Text.string(text) != nil else { return nil }
        return range
    }

    /// `UTF8Text.isASCII`, here so that it inlines: called across modules it cost about 50 instructions a
    /// string, a third of this check (callgrind, 100,000 instances of ten short strings each).
    @inline(__always)
    private static func isASCII(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var position = 0
        var bits: UInt64 = 0
        while position + 8 <= text.count {
            bits |= raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            position += 8
        }
        while position < text.count {
            bits |= UInt64(base[position])
            position += 1
        }
        return bits & 0x8080_8080_8080_8080 == 0
    }
}

/// Writes a metadata map as a count and key/value pairs in key byte order.
func writeMetadata(_ metadata: [String: String], into writer: inout ByteWriter) {
    writer.writeVarint(UInt64(metadata.count))
    let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    for key in keys {
        writer.writeString(key)
        writer.writeString(metadata[key] ?? "")
    }
}

/// Reads a metadata map, requiring strictly ascending keys so that one map has exactly one encoding.
func readMetadata(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) -> [String: String] {
    let count = try reader.readCount("metadata", limit: limits.metadataEntries)
    var metadata: [String: String] = Dictionary(minimumCapacity: count)
    // Keys are compared as the bytes they were read from, which is the order the strings' UTF-8 has.
    var previous: ArraySlice<UInt8>? = nil
    for _ in 0..<count {
        let keyBytes = try reader.readRaw(
            reader.readCount("metadata key", limit: limits.metadataEntryBytes), field: "metadata key")
        guard let key = UTF8Text.string(keyBytes) else { throw .invalidUTF8(field: "metadata key") }
        let value = try reader.readString("metadata value", limit: limits.metadataEntryBytes)
        if let previous, !previous.lexicographicallyPrecedes(keyBytes) {
            throw .invalidValue(field: "metadata", reason: "keys not strictly ascending")
        }
        previous = keyBytes
        metadata[key] = value
    }
    return metadata
}

extension RegistryLimits {
    /// Limits that accept anything; used only to decode values this module wrote and already validated.
    static let permissive: RegistryLimits = {
        var limits = RegistryLimits()
        limits.nameBytes = Int.max / 2
        limits.versionBytes = Int.max / 2
        limits.endpointsPerInstance = Int.max / 2
        limits.endpointBytes = Int.max / 2
        limits.metadataEntries = Int.max / 2
        limits.metadataEntryBytes = Int.max / 2
        return limits
    }()
}
