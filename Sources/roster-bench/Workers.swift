// Threads, per-thread results and summaries for the load generator.
import Glibc

final class ThreadBody: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `count` OS threads (`body(index)`) and waits for all of them.
func runThreads(_ count: Int, _ body: @escaping (Int) -> Void) {
    var threads: [pthread_t] = []
    for index in 0..<count {
        let box = Unmanaged.passRetained(ThreadBody { body(index) }).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed: \(result)")
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}

/// What one worker thread observed. Each thread owns one; they are read only after `runThreads` returns.
final class WorkerResult: @unchecked Sendable {
    var latenciesMicroseconds: [UInt32] = []
    var operations = 0
    var errors = 0
    var lastError = ""
    var completions: [UInt64] = []
    var recoveredAt: UInt64 = 0

    func error(_ text: String) {
        errors += 1
        lastError = text
    }
}

func percentile(_ sorted: [UInt32], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, Int(Double(sorted.count) * fraction))
    return Double(sorted[index]) / 1000
}

/// A JSON object built by hand (numbers and strings only).
struct JSONOut {
    private var parts: [String] = []
    mutating func add(_ key: String, _ value: Double) {
        parts.append("\"\(key)\":\(value.isFinite ? String(format3(value)) : "null")")
    }
    mutating func add(_ key: String, _ value: Int) { parts.append("\"\(key)\":\(value)") }
    mutating func add(_ key: String, _ value: String) {
        let escaped = value.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"")
        parts.append("\"\(key)\":\"\(escaped)\"")
    }
    mutating func addRaw(_ key: String, _ json: String) { parts.append("\"\(key)\":\(json)") }
    var text: String { "{" + parts.joined(separator: ",") + "}" }
}

func format3(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    return String(scaled)
}

extension String {
    func replacingAll(_ target: Character, _ replacement: String) -> String {
        var output = ""
        for character in self {
            if character == target { output += replacement } else { output.append(character) }
        }
        return output
    }
}

/// Standard summary of a throughput phase.
func summarize(_ results: [WorkerResult], seconds: Double) -> JSONOut {
    var latencies: [UInt32] = []
    var operations = 0
    var errors = 0
    var lastError = ""
    for result in results {
        latencies.append(contentsOf: result.latenciesMicroseconds)
        operations += result.operations
        errors += result.errors
        if !result.lastError.isEmpty { lastError = result.lastError }
    }
    latencies.sort()
    var out = JSONOut()
    out.add("ops", operations)
    out.add("errors", errors)
    out.add("seconds", seconds)
    out.add("ops_per_sec", seconds > 0 ? Double(operations) / seconds : 0)
    out.add("p50_ms", percentile(latencies, 0.50))
    out.add("p99_ms", percentile(latencies, 0.99))
    out.add("max_ms", latencies.last.map { Double($0) / 1000 } ?? 0)
    if !lastError.isEmpty { out.add("last_error", lastError) }
    // The load generator shares the machine's cores with the servers: its own CPU says how much it took.
    let cpu = processCPUSeconds()
    out.add("client_cpu_s", cpu)
    if operations > 0 { out.add("client_cpu_s_per_1k_ops", cpu / Double(operations) * 1000) }
    return out
}

/// User plus system CPU seconds this process has used so far (all threads).
func processCPUSeconds() -> Double {
    var usage = rusage()
    guard getrusage(Int32(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Raises the open-file limit to the hard limit (1,000 watchers need more than the usual 1,024).
func raiseFileLimit() {
    var limit = rlimit()
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

func sleepNanoseconds(_ nanoseconds: UInt64) {
    guard nanoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
}
