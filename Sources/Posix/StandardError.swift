import Glibc

/// The process's standard error (file descriptor 2), where the server logs.
public enum StandardError {
    /// Writes all of `bytes` with `write(2)`, retrying short writes and EINTR. A failing stderr is
    /// ignored on purpose: there is nowhere left to report it, and logging must never stop the node.
    public static func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(2, UnsafeRawBufferPointer(rebasing: buffer[offset...]).baseAddress, buffer.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}

/// The running process.
public enum CurrentProcess {
    /// Ends the process with `status` (fail-stop paths: a failed fsync must never be followed by an
    /// acknowledgement).
    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }
}
