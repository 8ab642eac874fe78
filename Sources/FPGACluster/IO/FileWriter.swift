import CPlatform
import FPGAExecution

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(Glibc)
    private let systemWrite = Glibc.write
#elseif canImport(Musl)
    private let systemWrite = Musl.write
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
#endif

/// Writes a job's output on its own thread (writes block): to a temporary file beside
/// the destination that is renamed into place only by ``commit()``, or to standard
/// output. ``abort()`` removes the temporary file, so a failed job leaves nothing.
actor FileWriter {
    private let executor = ThreadExecutor(name: "fpga-write")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The destination path, or `-` for standard output.
    nonisolated let path: String
    private let overwrite: Bool
    private var descriptor: Int32
    private var temporaryPath: String?
    /// Bytes written so far.
    private(set) var bytesWritten = 0
    /// While positional writes run: the offset they count from, and the file's size
    /// before them.
    private var positional: (base: Int, sizeBefore: Int)?

    /// Prepares to write `path` (`-` for standard output). Fails at once if the
    /// destination exists and `overwrite` is false, or its folder is not writable.
    init(path: String, overwrite: Bool, mode: UInt32 = 0o644) throws {
        self.path = path
        self.overwrite = overwrite
        if path == "-" {
            descriptor = STDOUT_FILENO
            return
        }
        var existing = stat()
        if lstat(path, &existing) == 0 {
            if existing.st_mode & S_IFMT == S_IFDIR {
                throw FileJobError.outputUnwritable(path, reason: "it is a directory")
            }
            if !overwrite { throw FileJobError.outputExists(path) }
        }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(folder).\(name).partial-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { cplatform_mkstemp_cloexec($0.baseAddress!) }
        guard fd >= 0 else { throw FileJobError.outputUnwritable(path, reason: systemErrorMessage()) }
        fchmod(fd, mode_t(mode & 0o777))
        descriptor = fd
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit {
        // Reached only if neither commit nor abort ran (a crash in the caller's logic):
        // still leave nothing behind.
        if let temporaryPath {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    /// Appends bytes.
    func write(_ bytes: [UInt8]) throws { try write(bytes[...]) }

    /// Appends bytes.
    func write(_ bytes: ArraySlice<UInt8>) throws {
        try bytes.withUnsafeBytes { try write(raw: $0) }
    }

    /// Appends the first `count` bytes of `buffer`, which its owner leaves alone until
    /// this returns.
    func write(_ buffer: IOBuffer, count: Int) throws {
        try write(buffer, range: 0..<count)
    }

    /// Appends the bytes of `buffer` in `range`, which its owner leaves alone until this
    /// returns.
    func write(_ buffer: IOBuffer, range: Range<Int>) throws {
        try write(raw: UnsafeRawBufferPointer(rebasing: buffer.bytes[range]))
    }

    private func write(raw: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < raw.count {
            let put = systemWrite(descriptor, raw.baseAddress! + done, min(raw.count - done, IOBuffer.largestWrite))
            if put < 0 {
                if errno == EINTR { continue }
                throw FileJobError.outputUnwritable(path, reason: systemErrorMessage())
            }
            done += put
        }
        bytesWritten += raw.count
    }

    /// Lets many threads write at once, each at its own offset (see ``PositionalOutput``),
    /// when the output is a regular file not opened for appending: the temporary file, or
    /// standard output redirected to a file. Nil for a pipe, a terminal or an append-mode
    /// file, which take bytes in order only, and while positional writes are under way.
    /// Offsets count from where the output stands now. End with
    /// ``endPositionalWrites(length:complete:)`` before any other write.
    func positionalOutput() -> PositionalOutput? {
        var status = stat()
        guard positional == nil, descriptor >= 0, fstat(descriptor, &status) == 0,
            status.st_mode & S_IFMT == S_IFREG
        else { return nil }
        let flags = fcntl(descriptor, F_GETFL)
        let base = lseek(descriptor, 0, SEEK_CUR)
        guard flags >= 0, flags & O_APPEND == 0, base >= 0 else { return nil }
        positional = (Int(base), Int(status.st_size))
        return PositionalOutput(descriptor: descriptor, base: Int(base), path: path)
    }

    /// Ends positional writes: the first `length` bytes from their base are the output's,
    /// all of it when `complete`, else the part that a failed job had written in order.
    /// The descriptor's offset moves past them, where writing them in order would have
    /// left it, so a later write (or the next program writing to the same standard output)
    /// follows them. After a failure, bytes that later pieces wrote beyond them are cut
    /// off, as if they had waited for the pieces before them, unless the file already
    /// held bytes there before the job.
    func endPositionalWrites(length: Int, complete: Bool) throws {
        guard let (base, sizeBefore) = positional else { return }
        positional = nil
        let end = base + length
        if !complete && sizeBefore <= end && ftruncate(descriptor, off_t(end)) != 0 {
            throw FileJobError.outputUnwritable(path, reason: systemErrorMessage())
        }
        guard lseek(descriptor, off_t(end), SEEK_SET) >= 0 else {
            throw FileJobError.outputUnwritable(path, reason: systemErrorMessage())
        }
        bytesWritten += length
    }

    /// Runs `body` on the writer's thread, where a write may block.
    func onWritingThread<Result: Sendable>(_ body: @Sendable () throws -> Result) rethrows -> Result {
        try body()
    }

    /// Closes the temporary file and renames it to the destination.
    func commit() throws {
        guard let temporaryPath else { return }
        defer { self.temporaryPath = nil }
        let closed = close(descriptor)
        let closeError = errno
        descriptor = -1
        guard closed == 0 else {
            unlink(temporaryPath)
            throw FileJobError.outputUnwritable(path, reason: systemErrorMessage(closeError))
        }
        var renamed: Int32
        if overwrite {
            renamed = rename(temporaryPath, path)
        } else {
            renamed = cplatform_rename_noreplace(temporaryPath, path)
            if renamed != 0 && (errno == EINVAL || errno == ENOSYS) {
                // The file system lacks RENAME_NOREPLACE: link fails if the name exists.
                renamed = link(temporaryPath, path)
                if renamed == 0 { unlink(temporaryPath) }
            }
        }
        guard renamed == 0 else {
            let code = errno
            unlink(temporaryPath)
            if code == EEXIST { throw FileJobError.outputExists(path) }
            throw FileJobError.outputUnwritable(path, reason: systemErrorMessage(code))
        }
    }

    /// Discards everything written: removes the temporary file.
    func abort() {
        guard let temporaryPath else { return }
        close(descriptor)
        descriptor = -1
        unlink(temporaryPath)
        self.temporaryPath = nil
    }
}

extension FileWriter {
    /// Opens the output for a job reading `reader`, refusing to write over the input.
    static func opening(_ path: String, for reader: FileReader, overwrite: Bool) throws -> FileWriter {
        if path != "-", let input = reader.identity {
            var existing = stat()
            if stat(path, &existing) == 0, UInt64(existing.st_dev) == input.device,
                UInt64(existing.st_ino) == input.inode
            {
                throw FileJobError.sameFile(path)
            }
        }
        return try FileWriter(path: path, overwrite: overwrite, mode: reader.mode)
    }
}
