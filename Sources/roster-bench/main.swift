// roster-bench: the load generator `scripts/bench` runs against a Roster cluster. One mode per run; it prints
// one JSON object on stdout. The Go program in scripts/benchlib/etcd-loadgen takes the same flags and prints
// the same fields for etcd, so the two sides are driven identically.
//
//   roster-bench --mode put        --endpoints A,B,C --clients N --duration S   registrations with a lease
//   roster-bench --mode register-ttl  (as put)   each registration with "ttl": a lease of its own, granted with it
//   roster-bench --mode get        --target instance|service --consistency linearizable|serializable
//   roster-bench --mode populate   --count N --service S --lease-every K        bulk registrations
//   roster-bench --mode watch      --watch-endpoint F --write-endpoint L --watchers W --rate R
//                                  [--watches-per-connection K]   K watches per POST /v1/watch stream (default 100,
//                                  etcd's loadgen layout); 0: one GET /v1/watch stream per watcher
//   roster-bench --mode failover   --clients N --duration S                     completion gaps (monotonic ns)
//   roster-bench --mode expiry     --leases L --ttl S --watch-endpoint F --write-endpoint L
//
// Clients are OS threads with blocking keep-alive connections (client i uses endpoint i mod count); every
// loop ends at its deadline and every socket has a timeout.
import Glibc
import Posix  // MonotonicClock: CLOCK_MONOTONIC, the clock Python's time.monotonic_ns() reads

struct Options: Sendable {
    var mode = "put"
    var endpoints: [String] = ["127.0.0.1:2379"]
    var clients = 16
    var duration = 5.0
    var service = "bench"
    var keySpace = 1000
    var valueSize = 200
    var target = "instance"
    var consistency = "linearizable"
    var count = 1000
    var leaseEvery = 1
    var ttlSeconds = 60
    var watchEndpoint = ""
    var writeEndpoint = ""
    var watchers = 1
    var watchesPerConnection = 100
    var rate = 20.0
    var leases = 5
    var services = 1
    var markNanoseconds: UInt64 = 0
    var timeoutMilliseconds = 5000

    init(_ arguments: [String]) {
        var index = 0
        func value() -> String {
            index += 1
            guard index < arguments.count else { fail("missing value for \(arguments[index - 1])") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--mode": mode = value()
            case "--endpoints": endpoints = value().split(separator: ",").map(String.init)
            case "--clients": clients = Int(value()) ?? clients
            case "--duration": duration = Double(value()) ?? duration
            case "--service": service = value()
            case "--key-space": keySpace = Int(value()) ?? keySpace
            case "--value-size": valueSize = Int(value()) ?? valueSize
            case "--target": target = value()
            case "--consistency": consistency = value()
            case "--count": count = Int(value()) ?? count
            case "--lease-every": leaseEvery = max(1, Int(value()) ?? leaseEvery)
            case "--ttl": ttlSeconds = Int(value()) ?? ttlSeconds
            case "--watch-endpoint": watchEndpoint = value()
            case "--write-endpoint": writeEndpoint = value()
            case "--watchers": watchers = Int(value()) ?? watchers
            case "--watches-per-connection": watchesPerConnection = max(0, Int(value()) ?? watchesPerConnection)
            case "--rate": rate = Double(value()) ?? rate
            case "--leases": leases = Int(value()) ?? leases
            case "--mark-ns": markNanoseconds = UInt64(value()) ?? 0
            case "--services": services = max(1, Int(value()) ?? services)
            case "--timeout-ms": timeoutMilliseconds = Int(value()) ?? timeoutMilliseconds
            case "--help", "-h":
                print("see the comment at the top of Sources/roster-bench/main.swift")
                exit(0)
            default: fail("unknown argument \(arguments[index])")
            }
            index += 1
        }
        if watchEndpoint.isEmpty { watchEndpoint = endpoints.last! }
        if writeEndpoint.isEmpty { writeEndpoint = endpoints.first! }
    }
}

func fail(_ message: String) -> Never {
    let line = Array("roster-bench: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

/// A ~`size`-byte instance record (JSON body of a registration), with `lease` when non-zero.
/// - Parameter ttlSeconds: Registers with a lease of its own of this TTL (`"ttl"`) instead of under `lease`.
func instanceBody(size: Int, lease: Int64, ttlSeconds: Int? = nil) -> [UInt8] {
    let head = "{\"endpoints\":[\"http://10.20.30.40:8080\",\"grpc://10.20.30.40:9090\"],\"metadata\":{\"zone\":\"zone-a\",\"version\":\"1.4.2\",\"pad\":\""
    let tail = ttlSeconds.map { "\"},\"ttl\":\"\($0)s\"}" } ?? (lease != 0 ? "\"},\"lease\":\(lease)}" : "\"}}")
    let padding = max(0, size - head.utf8.count - tail.utf8.count)
    return Array((head + String(repeating: "x", count: padding) + tail).utf8)
}

func grantLease(_ client: HTTPClient, ttlSeconds: Int) throws(ClientError) -> Int64 {
    let response = try client.request("POST", "/v1/leases", body: Array("{\"ttl\":\"\(ttlSeconds)s\"}".utf8))
    guard response.status == 200 || response.status == 201,
          let id = integer(after: "\"id\":", in: response.body) else {
        throw ClientError(description: "lease grant answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
    }
    return id
}

/// Registers instance `id` of `service`; returns the response (status checked by the caller).
func register(_ client: HTTPClient, _ service: String, _ id: String, _ body: [UInt8]) throws(ClientError) -> HTTPResponse {
    try client.request("PUT", "/v1/services/\(service)/instances/\(id)", body: body)
}

func ok(_ status: Int) -> Bool { (200..<300).contains(status) }

/// The members put worker `index` writes through, one request each in turn. With at least as many clients as
/// members, each client keeps to one and the clients spread over the members; with fewer, each client turns
/// through all of them from its own starting member, so a run "via all nodes" never depends on which member
/// happens to be listed first (at 1 client: on whether that one is the leader). etcd-loadgen does the same.
func putEndpoints(worker index: Int, of endpoints: [String], clients: Int) -> [String] {
    let first = index % endpoints.count
    guard clients < endpoints.count else { return [endpoints[first]] }
    return Array(endpoints[first...] + endpoints[..<first])
}

// MARK: - Modes

func runPut(_ options: Options) -> String {
    let results = (0..<options.clients).map { _ in WorkerResult() }
    let start = MonotonicClock.nanoseconds()
    let deadline = start + UInt64(options.duration * 1e9)
    runThreads(options.clients) { index in
        let result = results[index]
        let members = putEndpoints(worker: index, of: options.endpoints, clients: options.clients).map {
            HTTPClient(endpoint: $0, timeoutMilliseconds: options.timeoutMilliseconds)
        }
        let client = members[0]
        // register-ttl: every registration grants its own lease, as a TTL registration does (no shared lease).
        let ownLeases = options.mode == "register-ttl"
        var lease: Int64 = 0
        if !ownLeases {
            do { lease = try grantLease(client, ttlSeconds: options.ttlSeconds) } catch {
                result.error("\(error)")
                return
            }
        }
        let body = instanceBody(size: options.valueSize, lease: lease, ttlSeconds: ownLeases ? options.ttlSeconds : nil)
        var sequence = 0
        while true {
            let before = MonotonicClock.nanoseconds()
            if before >= deadline { break }
            do {
                let response = try register(
                    members[sequence % members.count], "\(options.service)-c\(index)", "i\(sequence % options.keySpace)", body)
                if ok(response.status) {
                    result.operations += 1
                    result.latenciesMicroseconds.append(UInt32(min(UInt64(UInt32.max), (MonotonicClock.nanoseconds() - before) / 1000)))
                } else {
                    result.error("status \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
                }
            } catch {
                result.error("\(error)")
                sleepNanoseconds(10_000_000)
            }
            sequence += 1
        }
        if !ownLeases { _ = try? client.request("DELETE", "/v1/leases/\(lease)") }
    }
    let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
    return summarize(results, seconds: min(seconds, options.duration + 5)).text
}

func runGet(_ options: Options) -> String {
    let path = options.target == "service"
        ? "/v1/services/\(options.service)?consistency=\(options.consistency)"
        : "/v1/services/\(options.service)/instances/i0?consistency=\(options.consistency)"
    let results = (0..<options.clients).map { _ in WorkerResult() }
    let start = MonotonicClock.nanoseconds()
    let deadline = start + UInt64(options.duration * 1e9)
    var bodyBytes = 0
    let sizes = WorkerResult()
    runThreads(options.clients) { index in
        let result = results[index]
        let client = HTTPClient(endpoint: options.endpoints[index % options.endpoints.count],
                                timeoutMilliseconds: options.timeoutMilliseconds)
        while true {
            let before = MonotonicClock.nanoseconds()
            if before >= deadline { break }
            do {
                let response = try client.request("GET", path)
                if ok(response.status) {
                    result.operations += 1
                    result.latenciesMicroseconds.append(UInt32(min(UInt64(UInt32.max), (MonotonicClock.nanoseconds() - before) / 1000)))
                    if index == 0 { sizes.operations = response.body.count }
                } else {
                    result.error("status \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
                }
            } catch {
                result.error("\(error)")
                sleepNanoseconds(10_000_000)
            }
        }
    }
    bodyBytes = sizes.operations
    var out = summarize(results, seconds: Double(MonotonicClock.nanoseconds() - start) / 1e9)
    out.add("response_bytes", bodyBytes)
    return out.text
}

func runPopulate(_ options: Options) -> String {
    let results = (0..<options.clients).map { _ in WorkerResult() }
    let start = MonotonicClock.nanoseconds()
    let deadline = start + UInt64(max(options.duration, 600) * 1e9)
    runThreads(options.clients) { index in
        let result = results[index]
        let client = HTTPClient(endpoint: options.endpoints[index % options.endpoints.count],
                                timeoutMilliseconds: options.timeoutMilliseconds)
        var body: [UInt8] = []
        var item = index
        var done = 0
        var attempts = 0
        while item < options.count, MonotonicClock.nanoseconds() < deadline, attempts < options.count * 3 {
            attempts += 1
            do {
                if body.isEmpty {
                    body = instanceBody(size: options.valueSize, lease: try grantLease(client, ttlSeconds: options.ttlSeconds))
                }
                let service = options.services > 1 ? "\(options.service)-\(item % options.services)" : options.service
                let response = try register(client, service, "i\(item)", body)
                guard ok(response.status) else {
                    result.error("status \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
                    continue
                }
                result.operations += 1
                item += options.clients
                done += 1
                if done % options.leaseEvery == 0 { body = [] }
            } catch {
                result.error("\(error)")
                sleepNanoseconds(20_000_000)
            }
        }
    }
    return summarize(results, seconds: Double(MonotonicClock.nanoseconds() - start) / 1e9).text
}

func runWatch(_ options: Options) -> String {
    raiseFileLimit()
    let service = options.service
    var connections: [WatchConnection] = []
    var opened = 0
    while opened < options.watchers {
        let watches = options.watchesPerConnection == 0 ? 1 : min(options.watchesPerConnection, options.watchers - opened)
        do {
            connections.append(
                options.watchesPerConnection == 0
                    ? try WatchConnection(endpoint: options.watchEndpoint, path: "/v1/watch?service=\(service)")
                    : try WatchConnection(endpoint: options.watchEndpoint, service: service, watches: watches))
        } catch {
            fail("opening watch connection \(connections.count): \(error)")
        }
        opened += watches
    }
    let readerThreads = min(4, max(1, connections.count / 64 + 1))
    let groups = (0..<readerThreads).map { group in
        stride(from: group, to: connections.count, by: readerThreads).map { connections[$0] }
    }
    let writer = WorkerResult()
    let acks = AckTable()
    let start = MonotonicClock.nanoseconds()
    let writeDeadline = start + UInt64(options.duration * 1e9)
    let readDeadline = writeDeadline + 3_000_000_000
    runThreads(readerThreads + 1) { index in
        if index < readerThreads {
            pollWatchers(groups[index], until: readDeadline) { acks.isComplete(groups[index]) }
            return
        }
        let client = HTTPClient(endpoint: options.writeEndpoint, timeoutMilliseconds: options.timeoutMilliseconds)
        let body = instanceBody(size: options.valueSize, lease: 0)
        let interval = UInt64(1e9 / options.rate)
        var next = MonotonicClock.nanoseconds()
        var sequence = 0
        while next < writeDeadline {
            sleepNanoseconds(next > MonotonicClock.nanoseconds() ? next - MonotonicClock.nanoseconds() : 0)
            next += interval
            do {
                let response = try register(client, service, "w\(sequence % 10)", body)
                let now = MonotonicClock.nanoseconds()
                if ok(response.status) {
                    acks.record(revision: response.revision, at: now)
                    writer.operations += 1
                } else {
                    writer.error("status \(response.status)")
                }
            } catch {
                writer.error("\(error)")
            }
            sequence += 1
        }
        acks.finish()
    }
    let ackTimes = acks.snapshot()
    var latencies: [UInt32] = []
    var missing = 0
    for connection in connections {
        for events in connection.watchEvents {
            var seen = Set<Int64>()
            for event in events {
                guard let ack = ackTimes[event.revision] else { continue }
                seen.insert(event.revision)
                latencies.append(UInt32(event.at > ack ? (event.at - ack) / 1000 : 0))
            }
            missing += ackTimes.count - seen.count
        }
        connection.close()
    }
    latencies.sort()
    var out = JSONOut()
    out.add("writes", writer.operations)
    out.add("write_errors", writer.errors)
    out.add("watchers", options.watchers)
    out.add("connections", connections.count)
    out.add("events", latencies.count)
    out.add("missing_events", missing)
    out.add("p50_ms", percentile(latencies, 0.5))
    out.add("p99_ms", percentile(latencies, 0.99))
    out.add("max_ms", latencies.last.map { Double($0) / 1000 } ?? 0)
    if !writer.lastError.isEmpty { out.add("last_error", writer.lastError) }
    return out.text
}

/// Write acknowledgement times by revision, shared between the writer and the watch readers.
final class AckTable: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var times: [Int64: UInt64] = [:]
    private var done = false

    init() { pthread_mutex_init(&lock, nil) }

    func record(revision: Int64, at time: UInt64) {
        pthread_mutex_lock(&lock)
        times[revision] = time
        pthread_mutex_unlock(&lock)
    }

    func finish() {
        pthread_mutex_lock(&lock)
        done = true
        pthread_mutex_unlock(&lock)
    }

    func snapshot() -> [Int64: UInt64] {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return times
    }

    /// True once writing finished and every watcher in `group` has seen the last acknowledged revision.
    func isComplete(_ group: [WatchConnection]) -> Bool {
        pthread_mutex_lock(&lock)
        let finished = done
        let last = times.keys.max() ?? 0
        pthread_mutex_unlock(&lock)
        guard finished else { return false }
        return group.allSatisfy { connection in
            !connection.open || connection.watchEvents.allSatisfy { ($0.last?.revision ?? 0) >= last }
        }
    }
}

func runFailover(_ options: Options) -> String {
    let results = (0..<options.clients).map { _ in WorkerResult() }
    let start = MonotonicClock.nanoseconds()
    let deadline = start + UInt64(options.duration * 1e9)
    runThreads(options.clients) { index in
        let result = results[index]
        var endpoint = index % options.endpoints.count
        var client = HTTPClient(endpoint: options.endpoints[endpoint], timeoutMilliseconds: options.timeoutMilliseconds)
        var lease: Int64 = 0
        var sequence = 0
        while MonotonicClock.nanoseconds() < deadline {
            let began = MonotonicClock.nanoseconds()
            do {
                if lease == 0 { lease = try grantLease(client, ttlSeconds: options.ttlSeconds) }
                let response = try register(client, "\(options.service)-c\(index)", "i\(sequence % 100)",
                                            instanceBody(size: options.valueSize, lease: lease))
                if ok(response.status) {
                    result.operations += 1
                    let now = MonotonicClock.nanoseconds()
                    result.completions.append(now)
                    if options.markNanoseconds > 0, began >= options.markNanoseconds,
                       result.recoveredAt == 0 || now < result.recoveredAt {
                        result.recoveredAt = now
                    }
                    sequence += 1
                    continue
                }
                result.error("status \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
            } catch {
                result.error("\(error)")
            }
            // Any failure: try the next node after a short pause.
            endpoint = (endpoint + 1) % options.endpoints.count
            client = HTTPClient(endpoint: options.endpoints[endpoint], timeoutMilliseconds: options.timeoutMilliseconds)
            sleepNanoseconds(10_000_000)
        }
    }
    var completions = results.flatMap(\.completions)
    completions.sort()
    var gaps: [String] = []
    for index in completions.indices.dropFirst() where completions[index] - completions[index - 1] > 10_000_000 {
        gaps.append("[\(completions[index - 1]),\(completions[index])]")
    }
    var out = summarize(results, seconds: Double(MonotonicClock.nanoseconds() - start) / 1e9)
    out.addRaw("gaps_ns", "[" + gaps.joined(separator: ",") + "]")
    out.add("first_ns", Int(completions.first ?? 0))
    out.add("last_ns", Int(completions.last ?? 0))
    // The first success of a write that began at or after --mark-ns (when the leader is killed).
    out.add("recovered_ns", Int(results.map(\.recoveredAt).filter { $0 > 0 }.min() ?? 0))
    return out.text
}

func runExpiry(_ options: Options) -> String {
    let service = options.service
    let connection: WatchConnection
    do {
        connection = try WatchConnection(endpoint: options.watchEndpoint, path: "/v1/watch?service=\(service)")
    } catch {
        fail("opening the expiry watcher: \(error)")
    }
    let client = HTTPClient(endpoint: options.writeEndpoint, timeoutMilliseconds: options.timeoutMilliseconds)
    var ends: [String: UInt64] = [:]
    let ttl = UInt64(options.ttlSeconds) * 1_000_000_000
    var errors: [String] = []
    for index in 0..<options.leases {
        do {
            let lease = try grantLease(client, ttlSeconds: options.ttlSeconds)
            let granted = MonotonicClock.nanoseconds()
            let response = try register(client, service, "e\(index)", instanceBody(size: options.valueSize, lease: lease))
            guard ok(response.status) else { throw ClientError(description: "status \(response.status)") }
            ends["e\(index)"] = granted + ttl
        } catch {
            errors.append("\(error)")
        }
        sleepNanoseconds(250_000_000)
    }
    let deadline = MonotonicClock.nanoseconds() + ttl + 15_000_000_000
    pollWatchers([connection], until: deadline) {
        Set(connection.events.filter(\.isDelete).map(\.id)).isSuperset(of: ends.keys)
    }
    var delays: [UInt32] = []
    for event in connection.events where event.isDelete {
        if let end = ends.removeValue(forKey: event.id) {
            delays.append(UInt32(event.at > end ? (event.at - end) / 1000 : 0))
        }
    }
    connection.close()
    delays.sort()
    var out = JSONOut()
    out.add("leases", options.leases)
    out.add("expired_seen", delays.count)
    out.add("p50_ms", percentile(delays, 0.5))
    out.add("max_ms", delays.last.map { Double($0) / 1000 } ?? 0)
    out.add("min_ms", delays.first.map { Double($0) / 1000 } ?? 0)
    if let error = errors.last { out.add("last_error", error) }
    return out.text
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
signal(SIGPIPE, SIG_IGN)
let output: String
switch options.mode {
case "put", "register-ttl": output = runPut(options)
case "get": output = runGet(options)
case "populate": output = runPopulate(options)
case "watch": output = runWatch(options)
case "failover": output = runFailover(options)
case "expiry": output = runExpiry(options)
default: fail("unknown mode \(options.mode)")
}
print(output)
