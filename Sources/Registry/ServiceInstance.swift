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
    public static func isWellFormedEncoding(_ bytes: [UInt8], limits: RegistryLimits) -> Bool {
        var reader = ByteReader(bytes)
        do {
            guard try reader.readByte("instance format") == formatVersion else { return false }
            _ = try reader.skipString("namespace", limit: limits.nameBytes)
            _ = try reader.skipString("service", limit: limits.nameBytes)
            _ = try reader.skipString("id", limit: limits.nameBytes)
            _ = try reader.skipString("version", limit: limits.versionBytes)
            let endpointCount = try reader.readCount("endpoints", limit: limits.endpointsPerInstance)
            for _ in 0..<endpointCount { _ = try reader.skipString("endpoint", limit: limits.endpointBytes) }
            let metadataCount = try reader.readCount("metadata", limit: limits.metadataEntries)
            var previous: ArraySlice<UInt8>? = nil
            for _ in 0..<metadataCount {
                let key = try reader.skipString("metadata key", limit: limits.metadataEntryBytes)
                _ = try reader.skipString("metadata value", limit: limits.metadataEntryBytes)
                if let previous, !previous.lexicographicallyPrecedes(key) { return false }
                previous = key
            }
            guard try reader.readVarint("weight") <= UInt64(UInt32.max) else { return false }
            guard InstanceStatus(rawValue: try reader.readByte("status")) != nil else { return false }
            _ = try reader.readVarint("lease")
            _ = try reader.readVarint("incarnation")
            return reader.isAtEnd
        } catch {
            return false
        }
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
