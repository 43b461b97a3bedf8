#if canImport(Glibc)
    import Glibc
#endif

/// Reads environment variables without Foundation, keeping the simulator's dependencies minimal.
struct ProcessInfoLite {
    func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
