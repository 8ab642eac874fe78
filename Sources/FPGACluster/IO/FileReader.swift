import FPGAExecution
import FPGAJobs

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(Glibc)
    private let systemRead = Glibc.read
#elseif canImport(Musl)
    private let systemRead = Musl.read
#elseif canImport(Darwin)
    private let systemRead = Darwin.read
#endif

/// Reads a file or standard input in chunks, on its own thread (reads block).
actor FileReader {
    private let executor = ThreadExecutor(name: "fpga-read")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The path, or `-` for standard input.
    nonisolated let path: String
    /// The file's size, when it is a regular file.
    nonisolated let size: Int?
    /// The device and inode, to tell whether an output is the same file.
    nonisolated let identity: (device: UInt64, inode: UInt64)?
    /// The file's permission bits.
    nonisolated let mode: UInt32
    private let descriptor: Int32
    private var nextIndex = 0
    private var position = 0
    private var ended = false

    /// Opens `path` for reading (`-` is standard input).
    init(path: String) throws {
        self.path = path
        if path == "-" {
            descriptor = STDIN_FILENO
            size = nil
            identity = nil
            mode = 0o644
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw FileJobError.inputNotFound(path) }
            throw FileJobError.inputUnreadable(path, reason: systemErrorMessage(code))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = systemErrorMessage()
            close(fd)
            throw FileJobError.inputUnreadable(path, reason: message)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            close(fd)
            throw FileJobError.inputIsDirectory(path)
        }
        descriptor = fd
        size = info.st_mode & S_IFMT == S_IFREG ? Int(info.st_size) : nil
        identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        mode = UInt32(info.st_mode & 0o7777)
    }

    deinit {
        if descriptor > STDERR_FILENO { close(descriptor) }
    }

    /// The next chunk of up to `maximum` bytes with its index (0, 1, ...), or nil at the
    /// end. An empty input gives one empty chunk, so it still becomes one member.
    func nextChunk(maximum: Int) throws -> (index: Int, input: ArraySlice<UInt8>)? {
        guard !ended else { return nil }
        let bytes = try [UInt8](unsafeUninitializedCapacity: maximum) { buffer, initialized in
            initialized = try fill(UnsafeMutableRawBufferPointer(buffer))
        }
        if bytes.count < maximum { ended = true }
        if bytes.isEmpty && nextIndex > 0 { return nil }
        defer { nextIndex += 1 }
        return (nextIndex, bytes[...])
    }

    /// The next chunk of up to `maximum` bytes with its index, or nil at the end; an empty
    /// input gives one empty chunk. A regular file's chunk is not read here: its bytes are
    /// read when a lane has room for them, with `pread` at their offset (straight into a
    /// local device's buffer), so the file is compressed as long as it was when opened. A
    /// stream's chunk is read now.
    func nextDeferredChunk(maximum: Int) throws -> (index: Int, input: DeferredBytes)? {
        guard let size else {
            return try nextChunk(maximum: maximum).map { ($0.index, DeferredBytes($0.input)) }
        }
        guard !ended else { return nil }
        let offset = position
        let count = min(maximum, size - offset)
        position += count
        if position == size { ended = true }
        defer { nextIndex += 1 }
        return (
            nextIndex,
            DeferredBytes(
                count: count,
                read: { [self] buffer in try readExactly(at: offset, into: buffer) },
                load: { [self] in try await load(at: offset, count: count) })
        )
    }

    /// Reads `count` bytes at `offset` into memory of their own, on the reader's thread;
    /// throws ``FileJobError/inputShrank(_:expected:found:)`` when the file ends before them.
    private func load(at offset: Int, count: Int) throws -> ArraySlice<UInt8> {
        let bytes = try read(at: offset, count: count)
        guard bytes.count == count else {
            throw FileJobError.inputShrank(path, expected: size ?? 0, found: offset + bytes.count)
        }
        return bytes[...]
    }

    /// Reads `buffer.count` bytes at `offset` on the calling thread; throws
    /// ``FileJobError/inputShrank(_:expected:found:)`` when the file ends before them.
    nonisolated func readExactly(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        let got = try read(at: offset, into: buffer)
        guard got == buffer.count else {
            throw FileJobError.inputShrank(path, expected: size ?? 0, found: offset + got)
        }
    }

    /// Reads the next bytes into `buffer`, as many as it holds (fewer only at the end);
    /// returns how many (0 at the end). For readers that reuse their buffers.
    func nextChunk(into buffer: IOBuffer) throws -> Int {
        guard !ended else { return 0 }
        let count = try fill(buffer.bytes)
        if count < buffer.bytes.count { ended = true }
        nextIndex += 1
        return count
    }

    /// Reads up to `buffer.count` bytes at the current position, fewer only at the end.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let got = systemRead(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            if got < 0 {
                if errno == EINTR { continue }
                throw FileJobError.inputUnreadable(path, reason: systemErrorMessage())
            }
            if got == 0 { break }
            filled += got
        }
        position += filled
        return filled
    }

    /// Reads the stream's next bytes into `buffer` with one `read` on the calling thread,
    /// which it blocks; returns how many (0 at the end): fewer than `buffer.count` when a
    /// pipe had no more yet. For a job that reads the whole stream itself on a dedicated
    /// thread; it does not advance ``nextChunk(maximum:)``'s chunks, so a job uses one or
    /// the other.
    nonisolated func readStream(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let got = systemRead(descriptor, buffer.baseAddress!, buffer.count)
            if got >= 0 { return got }
            if errno != EINTR { throw FileJobError.inputUnreadable(path, reason: systemErrorMessage()) }
        }
    }

    /// Reads `count` bytes at `offset` (regular files only); fewer only at the end.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = try read(at: offset, into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Reads `buffer.count` bytes at `offset` (regular files only) into `buffer` on the
    /// calling thread, which it blocks: for callers already on a dedicated thread, so that
    /// many positions are read at once without a hop to the reader's thread. Returns the
    /// bytes read, fewer only at the end of the file.
    nonisolated func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + filled, buffer.count - filled, off_t(offset + filled))
            if got < 0 {
                if errno == EINTR { continue }
                throw FileJobError.inputUnreadable(path, reason: systemErrorMessage())
            }
            if got == 0 { break }
            filled += got
        }
        return filled
    }
}
