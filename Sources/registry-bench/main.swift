// Measures the registry state machine: register apply rate with leases, and snapshot encode/decode time
// and size at 100,000 instances. Run through scripts/bench-registry (release build). Not a test: it
// prints figures and exits non-zero only if a result is wrong.
import Registry

/// `--layouts`: the same run with the kratos and kitex framework layouts on the instances' namespace, so each
/// registration also writes its two renderings (what a server with the default `--etcd-layout` pays).
let layouts: [FrameworkLayout] = CommandLine.arguments.contains("--layouts")
    ? [FrameworkLayout(framework: .kratos, prefix: "/microservices", namespace: "prod"),
       FrameworkLayout(framework: .kitex, prefix: "kitex/registry-etcd", namespace: "prod")]
    : []
let instanceCount = 100_000
let servicesCount = 100
let clock = ContinuousClock()

func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
}

func format(_ value: Double, decimals: Int = 2) -> String {
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    // Fixed-point rounding without libm (no Foundation or Glibc here); figures are positive.
    let scaled = Int(value * Double(scale) + 0.5)
    var fraction = String(scaled % scale)
    while fraction.count < decimals { fraction = "0" + fraction }
    return decimals == 0 ? String(scaled) : "\(scaled / scale).\(fraction)"
}

func check(_ condition: Bool, _ message: String) {
    if !condition {
        print("FAILED: \(message)")
        fatalError(message)
    }
}

// Commands are built up front so that only applying is timed.
var grants: [RegistryCommand] = []
var registrations: [RegistryCommand] = []
grants.reserveCapacity(instanceCount)
registrations.reserveCapacity(instanceCount)
for position in 0..<instanceCount {
    let lease = LeaseID(UInt64(position + 1))
    grants.append(.grantLease(id: lease, ttlMilliseconds: 10_000, grantedAtMilliseconds: UInt64(position)))
    let octet3 = (position / 250) % 250
    let octet4 = position % 250 + 1
    registrations.append(
        .registerInstance(
            ServiceInstance(
                namespace: "prod", service: "service-\(position % servicesCount)", id: "instance-\(position)",
                version: "v1.4.2", endpoints: ["grpc://10.1.\(octet3).\(octet4):9000", "http://10.1.\(octet3).\(octet4):8080"],
                metadata: ["zone": "eu-west-\(position % 3)", "build": "2026.11"], weight: 10, status: .up, lease: lease,
                incarnation: 1)))
}

var state = RegistryState(layouts: layouts)
var index: UInt64 = 0

let grantStart = clock.now
for command in grants {
    index += 1
    check(state.apply(command, at: index).rejection == nil, "grant rejected")
}
let grantElapsed = clock.now - grantStart

let registerStart = clock.now
for command in registrations {
    index += 1
    check(state.apply(command, at: index).rejection == nil, "register rejected")
}
let registerElapsed = clock.now - registerStart
check(state.revision == Revision(Int64(instanceCount)), "revision \(state.revision)")

// The node's real path: decode the entry payload, then apply.
let payloads = registrations.map { $0.encoded() }
var replica = RegistryState(layouts: layouts)
var replicaIndex: UInt64 = 0
for command in grants {
    replicaIndex += 1
    _ = replica.apply(command, at: replicaIndex)
}
let decodeApplyStart = clock.now
for payload in payloads {
    replicaIndex += 1
    let command: RegistryCommand
    do { command = try RegistryCommand.decode(payload, limits: .standard) } catch { fatalError("decode: \(error)") }
    check(replica.apply(command, at: replicaIndex).rejection == nil, "replica register rejected")
}
let decodeApplyElapsed = clock.now - decodeApplyStart

let encodeStart = clock.now
let snapshot = state.snapshotBytes()
let encodeElapsed = clock.now - encodeStart

let restoreStart = clock.now
let restored: RegistryState
do { restored = try RegistryState.restore(from: snapshot, limits: .standard, layouts: layouts) } catch { fatalError("restore: \(error)") }
let restoreElapsed = clock.now - restoreStart
check(restored == state, "restored state differs")
check(replica.snapshotBytes() == snapshot, "replica snapshot differs")

let hashStart = clock.now
let hash: StateHash
do { hash = try state.stateHash() } catch { fatalError("hash: \(error)") }
let hashElapsed = clock.now - hashStart

let listStart = clock.now
var listed = 0
for service in 0..<servicesCount {
    do { listed += try state.instances(namespace: "prod", service: "service-\(service)").instances.count } catch {
        fatalError("list: \(error)")
    }
}
let listElapsed = clock.now - listStart
check(listed == instanceCount, "listed \(listed)")

let registerMs = milliseconds(registerElapsed)
print("registry-bench: \(instanceCount) instances, \(servicesCount) services, one lease each (release build)"
    + (layouts.isEmpty ? "" : ", with kratos and kitex layouts"))
print("  lease grant apply:         \(format(Double(instanceCount) / milliseconds(grantElapsed) * 1_000, decimals: 0)) commands/s")
print("  register apply:            \(format(Double(instanceCount) / registerMs * 1_000, decimals: 0)) commands/s (\(format(registerMs * 1_000 / Double(instanceCount))) µs each)")
print("  register decode + apply:   \(format(Double(instanceCount) / milliseconds(decodeApplyElapsed) * 1_000, decimals: 0)) commands/s")
print("  snapshot encode:           \(format(milliseconds(encodeElapsed))) ms")
print("  snapshot decode (restore): \(format(milliseconds(restoreElapsed))) ms")
print("  snapshot size:             \(snapshot.count) bytes (\(format(Double(snapshot.count) / Double(instanceCount), decimals: 1)) bytes/instance, \(state.historyCount) history events)")
print("  state hash (FNV-1a 64):    \(format(milliseconds(hashElapsed))) ms")
print("  list all 100 services:     \(format(milliseconds(listElapsed))) ms")
print("  hash \(String(hash.hash, radix: 16)) at \(hash.revision)")

// The worst document a layout reads: a put of a ~1 MiB kratos object of tiny members under /microservices.
if !layouts.isEmpty {
    var document = #"{"id":"i1","name":"service-0","endpoints":["grpc://10.0.0.1:1"]"#
    var member = 0
    while document.utf8.count < 1_000_000 {
        document += #","m\#(member)":"x""#
        member += 1
    }
    document += "}"
    let put = RegistryCommand.put(PutRequest(key: Array("/microservices/service-0/i1".utf8), value: Array(document.utf8)))
    index += 1
    let putStart = clock.now
    check(state.apply(put, at: index).rejection == nil, "large layout put rejected")
    let putElapsed = clock.now - putStart
    check(state.instance(named: InstanceName(namespace: "prod", service: "service-0", id: "i1")) != nil, "no instance")
    print("  layout put of a 1 MB kratos document (\(member) members): \(format(milliseconds(putElapsed))) ms")
}
