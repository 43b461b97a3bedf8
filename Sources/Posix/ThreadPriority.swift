import CLinuxShim
import Glibc

/// Scheduling priority of the calling thread.
public enum ThreadPriority {
    /// The nice value of background threads: about a tenth of a normal thread's share of a contended core
    /// (CFS weight 110 against 1024), so password hashing yields to the event loop. Not 19: at weight 15 a busy
    /// machine starved logins for seconds (seen under `stress --cpu 2`), where a tenth still answers them.
    public static let backgroundNice: Int32 = 10

    /// Gives the calling thread `backgroundNice` (for this thread only, as Linux applies `setpriority` to a
    /// thread ID): background work such as password hashing then takes little CPU time the event loop wants.
    /// - Returns: false when the kernel refused (the thread keeps its priority; nothing else changes).
    @discardableResult
    public static func lowerCurrentThread() -> Bool {
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(roster_gettid()), backgroundNice) == 0
    }
}
