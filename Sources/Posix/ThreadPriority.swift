import CLinuxShim
import Glibc

/// Scheduling priority of the calling thread.
public enum ThreadPriority {
    /// Makes the calling thread the last to get a core when cores are scarce (nice 19 for this thread only, as
    /// Linux applies `setpriority` to a thread ID): background work such as password hashing then never takes
    /// CPU time the event loop wants.
    /// - Returns: false when the kernel refused (the thread keeps its priority; nothing else changes).
    @discardableResult
    public static func lowerCurrentThread() -> Bool {
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(roster_gettid()), 19) == 0
    }
}
