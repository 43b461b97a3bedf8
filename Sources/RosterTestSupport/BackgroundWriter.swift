import Foundation
import Synchronization

/// Writes under load for a test: `writerCount` loops issue writes back to back until stopped, and every write's
/// outcome is recorded, so the test can later check that each acknowledged write survived what it did meanwhile
/// (a restart, a member replacement, a backup).
///
/// A write counts as acknowledged when `write` returns and as failed when it throws; the test decides whether
/// failures matter. Writes that await run in tasks; writes that block run on threads of their own (`blockingWrite`),
/// never on the cooperative pool.
public final class BackgroundWriter<Acknowledgement: Sendable>: Sendable {
    /// One acknowledged write.
    public struct Acknowledged: Sendable {
        /// The write's name, from `name(writer, number)`.
        public var id: String
        /// Which loop made it.
        public var writer: Int
        /// What `write` returned (a revision, or nothing).
        public var acknowledgement: Acknowledgement
        /// When the acknowledgement arrived, for gap measurements (never for assertions).
        public var at: ContinuousClock.Instant
    }

    /// What the writers were told.
    public struct Outcome: Sendable {
        /// Acknowledged writes, in acknowledgement order.
        public var acknowledged: [Acknowledged] = []
        /// Writes whose call threw, with the error.
        public var failed: [(id: String, error: String)] = []
        fileprivate var stopping = false

        /// The ids of the acknowledged writes.
        public var acknowledgedIDs: [String] { acknowledged.map(\.id) }
    }

    /// Shared by the loops and the test.
    private final class State: Sendable {
        let outcome = Mutex(Outcome())

        var isStopping: Bool { outcome.withLock { $0.stopping } }

        func record(_ id: String, writer: Int, _ result: Result<Acknowledgement, any Error>) {
            let at = ContinuousClock.now
            outcome.withLock {
                switch result {
                case .success(let acknowledgement):
                    $0.acknowledged.append(Acknowledged(id: id, writer: writer, acknowledgement: acknowledgement, at: at))
                case .failure(let error):
                    $0.failed.append((id, "\(error)"))
                }
            }
        }
    }

    private let state: State
    /// Async loops (tasks), for writes that await.
    private let tasks: [Task<Void, Never>]
    /// Blocking loops (threads), for writes that block; each signals its semaphore when it ends.
    private let threadsDone: [DispatchSemaphore]

    /// Starts `writerCount` async loops; loop `w` makes writes `name(w, 0)`, `name(w, 1)`, ... with `write(id, w, n)`.
    public init(
        writerCount: Int = 1, name: @escaping @Sendable (_ writer: Int, _ number: Int) -> String,
        write: @escaping @Sendable (_ id: String, _ writer: Int, _ number: Int) async throws -> Acknowledgement
    ) {
        let state = State()
        self.state = state
        threadsDone = []
        tasks = (0..<writerCount).map { writer in
            Task {
                var number = 0
                while !state.isStopping {
                    let id = name(writer, number)
                    do {
                        state.record(id, writer: writer, .success(try await write(id, writer, number)))
                    } catch {
                        state.record(id, writer: writer, .failure(error))
                    }
                    number += 1
                }
            }
        }
    }

    /// Starts `writerCount` loops on threads of their own, for a `write` that blocks (`TestHTTP`): they keep
    /// writing however busy the cooperative pool is, as a real client process would.
    public init(
        writerCount: Int = 1, name: @escaping @Sendable (_ writer: Int, _ number: Int) -> String,
        blockingWrite write: @escaping @Sendable (_ id: String, _ writer: Int, _ number: Int) throws -> Acknowledgement
    ) {
        let state = State()
        self.state = state
        tasks = []
        threadsDone = (0..<writerCount).map { writer in
            let done = DispatchSemaphore(value: 0)
            Thread {
                var number = 0
                while !state.isStopping {
                    let id = name(writer, number)
                    state.record(id, writer: writer, Result { try write(id, writer, number) })
                    number += 1
                }
                done.signal()
            }.start()
            return done
        }
    }

    /// How many writes have been acknowledged so far.
    public var acknowledgedCount: Int { state.outcome.withLock { $0.acknowledged.count } }

    /// Waits until at least `count` writes have been acknowledged. The deadline is generous on purpose: how fast a
    /// loaded 2-core machine acknowledges writes is a measurement, not a property, so it only bounds a stall.
    public func waitUntilAcknowledged(_ count: Int, _ what: String, seconds: Double = 180) async throws {
        try await Waiting.until("\(what) (\(count) acknowledged writes)", seconds: seconds) { acknowledgedCount >= count }
    }

    /// What the writers were told so far.
    public var current: Outcome { state.outcome.withLock { $0 } }

    /// Lets every loop finish its write in flight, then returns what they were told.
    public func stop() async -> Outcome {
        state.outcome.withLock { $0.stopping = true }
        for task in tasks { await task.value }
        let threadsDone = threadsDone
        await Blocking.run { for done in threadsDone { done.wait() } }
        return state.outcome.withLock { $0 }
    }
}

/// Why a background write was not acknowledged.
public struct WriteRefused: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Blocking work (a `TestHTTP` request, a poll loop) run on a thread of its own, so an async caller suspends
/// instead of holding one of the few cooperative threads a 2-core machine has.
public enum Blocking {
    /// Runs `body` on a new thread and resumes with its result.
    public static func run<Value: Sendable>(_ body: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }
}
