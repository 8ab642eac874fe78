import FPGAExecution
import Synchronization

/// Bytes a reader fills, an inflater reads or writes, or a writer writes, reused
/// throughout a job.
///
/// `@unchecked Sendable`: the one task that owns it hands it to one thread at a time (a
/// read, an inflate or a write) and awaits that use before the next, so its bytes are
/// never touched by two threads at once.
final class IOBuffer: @unchecked Sendable {
    /// Chunk- and member-sized buffers come in huge pages where the host has them.
    private let memory: BulkMemory
    var bytes: UnsafeMutableRawBufferPointer { memory.bytes }

    init(size: Int) { memory = BulkMemory(byteCount: size) }

    /// The most bytes one `write` or `pwrite` call is given: larger buffers go out in
    /// calls of this size. Large calls into ext4's page cache are now and then much slower
    /// per byte on the benchmark machine (a virtual machine; probably its page cache's large
    /// folios, taken from memory its host has to back on first touch): `dd` of 1 GiB to a
    /// file in 1 MiB calls took 194 to 783 ms (median 270), in 512 KiB calls 206 to 289, in
    /// 256 KiB calls 213 to 219, in 128 KiB calls 229 to 279, and `fpga-compress -d` of
    /// 64 MiB in 2 MiB calls took 3 to 4 times as long in 4 runs of 7. Calls of 256 KiB cost
    /// 4,096 system calls per GiB and were never slow.
    static let largestWrite = 256 << 10
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
