import Synchronization

/// Bytes a reader fills, an inflater reads or writes, or a writer writes, reused
/// throughout a job.
///
/// `@unchecked Sendable`: the one task that owns it hands it to one thread at a time (a
/// read, an inflate or a write) and awaits that use before the next, so its bytes are
/// never touched by two threads at once.
final class IOBuffer: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer

    init(size: Int) { bytes = .allocate(byteCount: max(size, 1), alignment: 64) }

    /// The most bytes one `write` or `pwrite` call is given: larger buffers go out in
    /// calls of this size. One call of several MiB into ext4's page cache took 3 to 5
    /// times as long as the same bytes in 1 MiB calls now and then on the benchmark
    /// machine (decompressing 64 MiB of 2 MiB members: 4 runs in 7 took 0.18 to 0.26 s
    /// instead of 0.07 s); no run of 1 MiB calls did.
    static let largestWrite = 1 << 20

    deinit { bytes.deallocate() }
}

/// Buffers of one size that a job's stages pass around and give back, so that a job
/// allocates (and the kernel zero-fills) as many buffers as it ever has in use at once,
/// not one per chunk.
///
/// ``take()`` hands out a free buffer or makes one; ``give(_:)`` keeps it for the next
/// ``take()``. A buffer taken and never given back (a failed job drops it) is freed with
/// its last reference, so the pool bounds nothing itself: the job's window bounds how
/// many are in use.
final class IOBufferPool: Sendable {
    /// The size of every buffer.
    let bufferSize: Int
    private let free = Mutex<[IOBuffer]>([])

    init(bufferSize: Int) { self.bufferSize = bufferSize }

    /// A buffer of ``bufferSize`` bytes, owned by the caller until given back.
    func take() -> IOBuffer { free.withLock { $0.popLast() } ?? IOBuffer(size: bufferSize) }

    /// Gives back a buffer taken from this pool; nothing may use it afterwards.
    func give(_ buffer: IOBuffer) {
        precondition(buffer.bytes.count >= bufferSize, "a buffer given back to a pool it did not come from")
        free.withLock { $0.append(buffer) }
    }
}
