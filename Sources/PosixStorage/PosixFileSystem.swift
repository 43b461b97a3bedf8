import Storage

#if canImport(Glibc)
    import CLinuxShim
    import Glibc

    /// `FileSystem` on real files through POSIX calls.
    ///
    /// Every call retries EINTR; writes loop until all bytes are written, because `write(2)` may write
    /// fewer; ENOSPC becomes `.diskFull`. An fsync is never retried: after a failed fsync Linux may
    /// already have dropped the dirty pages and report the next fsync as a success (PostgreSQL's
    /// "fsyncgate"), so the error goes straight to the caller, which must stop.
    ///
    /// Stateless (every handle is a file descriptor), hence trivially `Sendable`.
    public struct PosixFileSystem: FileSystem {
        public init() {}

        public func status(_ path: String) throws(StorageError) -> FileStatus? {
            var info = stat()
            guard stat(path, &info) == 0 else {
                let code = errno
                if code == ENOENT { return nil }
                throw .io(operation: "stat", path: path, errno: code)
            }
            let kind: FileStatus.Kind
            switch info.st_mode & S_IFMT {
            case S_IFREG: kind = .file
            case S_IFDIR: kind = .directory
            default: kind = .other
            }
            return FileStatus(kind: kind, permissions: UInt32(info.st_mode & 0o7777), size: Int(info.st_size))
        }

        public func createDirectory(_ path: String) throws(StorageError) {
            guard mkdir(path, 0o700) == 0 else { throw Self.error("mkdir", path, errno) }
        }

        public func listDirectory(_ path: String) throws(StorageError) -> [String] {
            guard let directory = opendir(path) else { throw Self.error("opendir", path, errno) }
            defer { closedir(directory) }
            var names: [String] = []
            while true {
                // readdir returns nil both at the end and on error; only errno tells them apart, and
                // a silently short listing would hide a segment.
                errno = 0
                guard let entry = readdir(directory) else {
                    if errno != 0 { throw Self.error("readdir", path, errno) }
                    return names.sorted()
                }
                let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                    String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { names.append(name) }
            }
        }

        public func open(_ path: String, create: Bool) throws(StorageError) -> OpenFile {
            // No O_APPEND: with it Linux ignores pwrite's offset, and the log writes inside preallocated space.
            let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
            let descriptor = try Self.retrying("open", path) { Glibc.open(path, flags, 0o600) }
            return OpenFile(rawValue: Int(descriptor), path: path)
        }

        public func append(_ bytes: [UInt8], to file: OpenFile) throws(StorageError) {
            let end = lseek(Int32(file.rawValue), 0, SEEK_END)
            guard end >= 0 else { throw Self.error("lseek", file.path, errno) }
            try write(bytes, to: file, at: Int(end))
        }

        public func write(_ bytes: [UInt8], to file: OpenFile, at offset: Int) throws(StorageError) {
            let outcome = bytes.withUnsafeBytes { buffer in
                Result { () throws(StorageError) in try Self.writeAll(buffer, to: file, at: offset, operation: "write") }
            }
            try outcome.get()
        }

        /// `pwrite` until every byte is written (a write may take fewer), retrying EINTR; ENOSPC and EDQUOT become
        /// `.diskFull`.
        private static func writeAll(
            _ buffer: UnsafeRawBufferPointer, to file: OpenFile, at offset: Int, operation: String
        ) throws(StorageError) {
            var written = 0
            while written < buffer.count {
                let result = pwrite(Int32(file.rawValue), buffer.baseAddress! + written, buffer.count - written, off_t(offset + written))
                if result >= 0 {
                    written += result
                    continue
                }
                let code = errno
                if code == EINTR { continue }
                if code == ENOSPC || code == EDQUOT { throw .diskFull(path: file.path, offset: offset + written) }
                throw .io(operation: operation, path: file.path, errno: code)
            }
        }

        public func preallocate(_ file: OpenFile, size: Int) throws(StorageError) {
            // posix_fallocate returns the error instead of setting errno; on ext4 it reserves unwritten extents, which
            // read as zeros, without writing them.
            var code: Int32
            repeat {
                code = posix_fallocate(Int32(file.rawValue), 0, off_t(size))
            } while code == EINTR
            guard code == 0 else { throw Self.error("posix_fallocate", file.path, code) }
        }

        public func sync(_ file: OpenFile) throws(StorageError) {
            // fdatasync, as etcd's WAL: it makes the data durable with the metadata needed to read it back (the
            // size of an appended or truncated file) and skips timestamps, which nothing here reads. An append still
            // pays a journal commit for the new size (storage-bench, 2026-12-04: 369 synced appends/s against 736
            // synced overwrites/s); preallocated segments, as etcd's, would avoid it. Directories still get fsync
            // (`syncDirectory`). EINTR is not expected on Linux; if it happens the outcome is unknown, so it is an
            // error like any other rather than a retry.
            guard fdatasync(Int32(file.rawValue)) == 0 else { throw Self.error("fdatasync", file.path, errno) }
        }

        /// Nil where the file system refuses direct I/O (EINVAL: tmpfs before Linux 6.6, some FUSE and network file
        /// systems) or its blocks are larger than `durableWriteBlockBytes`, so writes could not be aligned to them.
        public func openForDurableWrites(_ path: String) throws(StorageError) -> OpenFile? {
            var descriptor: Int32
            repeat {
                descriptor = roster_open_direct_synced(path)
            } while descriptor < 0 && errno == EINTR
            if descriptor < 0 {
                let code = errno
                if code == EINVAL { return nil }
                throw Self.error("open (direct, synced)", path, code)
            }
            var info = stat()
            guard fstat(descriptor, &info) == 0, Int(info.st_blksize) <= durableWriteBlockBytes,
                durableWriteBlockBytes % Int(info.st_blksize) == 0
            else {
                _ = Glibc.close(descriptor)
                return nil
            }
            return OpenFile(rawValue: Int(descriptor), path: path)
        }

        /// Direct I/O needs the memory aligned too, which an array's storage is not: the bytes go through an aligned
        /// copy. As with `sync`, an error is never retried.
        public func writeDurably(_ bytes: [UInt8], to file: OpenFile, at offset: Int) throws(StorageError) {
            precondition(offset % durableWriteBlockBytes == 0 && bytes.count % durableWriteBlockBytes == 0,
                         "writeDurably needs whole blocks at a block offset")
            guard !bytes.isEmpty else { return }
            let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: durableWriteBlockBytes)
            defer { aligned.deallocate() }
            aligned.copyBytes(from: bytes)
            try Self.writeAll(UnsafeRawBufferPointer(aligned), to: file, at: offset, operation: "write (direct, synced)")
        }

        public func truncate(_ file: OpenFile, to size: Int) throws(StorageError) {
            _ = try Self.retrying("ftruncate", file.path) { ftruncate(Int32(file.rawValue), off_t(size)) }
        }

        public func close(_ file: OpenFile) {
            // A close error cannot lose data that was fsynced, and unsynced data is never relied on,
            // so the result carries nothing to act upon.
            _ = Glibc.close(Int32(file.rawValue))
        }

        public func readFile(_ path: String, limit: Int) throws(StorageError) -> [UInt8] {
            let descriptor = try Self.retrying("open", path) { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
            defer { _ = Glibc.close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw Self.error("fstat", path, errno) }
            let size = Int(info.st_size)
            guard size <= limit else {
                throw .corrupt(path: path, offset: 0, reason: "file is \(size) bytes, over the \(limit)-byte limit")
            }
            // Read straight into the array's storage: no zero fill and no second copy, which for a
            // snapshot of tens of MiB is a visible part of a restart.
            var readErrno: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                var filled = 0
                while filled < size {
                    let result = pread(descriptor, buffer.baseAddress! + filled, size - filled, off_t(filled))
                    if result > 0 {
                        filled += result
                    } else if result == 0 {
                        break
                    } else if errno != EINTR {
                        readErrno = errno
                        break
                    }
                }
                initialized = filled
            }
            if readErrno != 0 { throw Self.error("read", path, readErrno) }
            return bytes
        }

        public func rename(_ source: String, to target: String) throws(StorageError) {
            guard Glibc.rename(source, target) == 0 else { throw Self.error("rename to \(target)", source, errno) }
        }

        public func remove(_ path: String) throws(StorageError) {
            guard unlink(path) == 0 else { throw Self.error("unlink", path, errno) }
        }

        /// Removes an empty directory (a restore's abandoned staging directory, emptied first).
        public func removeDirectory(_ path: String) throws(StorageError) {
            guard rmdir(path) == 0 else { throw Self.error("rmdir", path, errno) }
        }

        public func syncDirectory(_ path: String) throws(StorageError) {
            let descriptor = try Self.retrying("open", path) { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            defer { _ = Glibc.close(descriptor) }
            guard fsync(descriptor) == 0 else { throw Self.error("fsync", path, errno) }
        }

        public func lockDirectory(_ path: String) throws(StorageError) -> OpenFile {
            let lockPath = path.appendingPathComponent("LOCK")
            let descriptor: Int32
            do {
                descriptor = try Self.retrying("open", lockPath) {
                    Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
                }
            } catch .io(_, _, let code) where code == EROFS || code == EACCES || code == EPERM {
                throw .readOnly(path: path)
            }
            // flock locks belong to the open file description, so a second open of the same directory
            // in this process conflicts just as another process does.
            while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                if code == EINTR { continue }
                _ = Glibc.close(descriptor)
                if code == EWOULDBLOCK { throw .locked(path: path) }
                throw .io(operation: "flock", path: lockPath, errno: code)
            }
            return OpenFile(rawValue: Int(descriptor), path: lockPath)
        }

        // MARK: - Helpers

        private static func error(_ operation: String, _ path: String, _ code: Int32) -> StorageError {
            switch code {
            case ENOSPC, EDQUOT: .diskFull(path: path, offset: 0)
            case EROFS: .readOnly(path: path)
            default: .io(operation: operation, path: path, errno: code)
            }
        }

        private static func retrying(
            _ operation: String, _ path: String, _ call: () -> Int32
        ) throws(StorageError) -> Int32 {
            while true {
                let result = call()
                if result >= 0 { return result }
                let code = errno
                if code != EINTR { throw error(operation, path, code) }
            }
        }
    }
#endif
