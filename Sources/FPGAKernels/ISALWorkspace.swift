import CISAL
import FPGADevice
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The memory ISA-L's deflate works in: its stream state and its level buffer (hash table,
/// histogram, intermediate codes), about 360 KiB.
///
/// The kernel promises the same bytes for the same input, and ISA-L's level-1 deflate keeps
/// that promise only if its stream lies in the right place. Its match finder (the x86
/// `isal_deflate_icf_body` for levels 1 and 2, in `igzip_icf_body_h1_gr_bt.asm`, 2.30 and
/// the current source alike) hashes the input's third position from a register that still
/// holds the stream's address when a stream starts: it writes position 2 into the hash
/// bucket `crc32c(UInt32(truncatingIfNeeded: address >> 16)) & 8191` instead of the one the
/// data names. Valid output either way (a match is checked before it is used), but for a
/// chunk whose later bytes repeat its first ones through that bucket, the match is missed,
/// and the bytes then depend on the address the stream happened to get: measured, one call
/// in several thousand under ASLR. So every workspace maps its stream at the start of a
/// 64 KiB block whose bucket is ``streamBucket``, and the stray write always lands in the
/// same bucket, in every process, worker and run.
///
/// The memory lives in pages of its own, mapped once, with an inaccessible page on each side,
/// never in the shared heap: an overrun in either direction faults instead of writing into
/// someone else's memory. Workspaces are pooled and reused, so a run pays for zeroing the
/// state, not for mapping it.
final class ISALWorkspace: @unchecked Sendable {
    // `@unchecked Sendable`: a workspace is used by one thread at a time. It is handed out
    // by `withWorkspace`, which removes it from the pool under the pool's lock and puts it
    // back only after that thread's deflate call has returned.

    let stream: UnsafeMutablePointer<isal_zstream>
    let levelBuffer: UnsafeMutableRawPointer
    let levelBufferSize: Int
    private let mapping: UnsafeMutableRawPointer
    private let mappingSize: Int

    /// Maps a workspace whose stream starts in a 64 KiB block of bucket ``streamBucket``
    /// (`streamBucket` is a parameter only for tests, which show what another bucket does).
    init?(streamBucket bucket: Int = ISALWorkspace.streamBucket) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        func roundUp(_ value: Int) -> Int { (value + page - 1) / page * page }
        let streamBytes = roundUp(MemoryLayout<isal_zstream>.size)
        levelBufferSize = Int(cisal_level1_buffer_size())
        let levelBytes = roundUp(levelBufferSize)
        mappingSize = page + streamBytes + levelBytes + page
        guard let base = Self.mapInaccessible(size: mappingSize, streamOffset: page, bucket: bucket) else {
            return nil
        }
        mapping = base
        guard mprotect(base + page, streamBytes + levelBytes, PROT_READ | PROT_WRITE) == 0 else {
            munmap(base, mappingSize)
            return nil
        }
        stream = (base + page).bindMemory(to: isal_zstream.self, capacity: 1)
        levelBuffer = base + page + streamBytes
    }

    /// The hash bucket every workspace's stream address selects (any fixed bucket would do;
    /// 0 is also where runs of zero bytes hash, which overwrite it at once).
    static let streamBucket = 0

    /// The bucket of ISA-L's level-1 hash table that a 32-bit value selects: the x86 `crc32`
    /// instruction (CRC-32C from 0, no inversion, which is what ISA-L's `crc32_iscsi`
    /// computes from a zero seed) of the value, masked to the table's 8,192 entries. ISA-L
    /// hashes four input bytes (little-endian) this way, and its stray write hashes the
    /// stream's address shifted right by 16.
    static func hashBucket(_ value: UInt32) -> Int {
        var bytes = value.littleEndian
        let crc = withUnsafeMutableBytes(of: &bytes) {
            crc32_iscsi($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 4, 0)
        }
        return Int(crc) & hashMask
    }

    /// ISA-L's `LVL1_HASH_MASK`: `IGZIP_LVL1_HASH_SIZE` (8,192 entries) minus one.
    static let hashMask = 8191

    /// The bucket a stream at `address` sends ISA-L's stray write to.
    static func streamBucket(of address: UnsafeRawPointer) -> Int {
        bucket(ofBlock: UInt(bitPattern: address) / blockSize)
    }

    /// The bucket of a stream starting anywhere in 64 KiB block `block` (its address >> 16).
    private static func bucket(ofBlock block: UInt) -> Int {
        hashBucket(UInt32(truncatingIfNeeded: block))
    }

    /// The span of addresses that share one bucket: ISA-L hashes the address >> 16.
    private static let blockSize: UInt = 1 << 16

    /// Maps `size` inaccessible bytes so that `base + streamOffset` starts a 64 KiB block of
    /// bucket `bucket`. One block in 8,192 has a given bucket, so such blocks lie about
    /// 512 MiB apart: they are looked for from 16 TiB up, in the middle of the x86-64 address
    /// space, far from what the kernel maps on its own (the program and its heap near the
    /// bottom, libraries, thread stacks and heap arenas near the top), where a hint for a
    /// free range is granted as asked. Each search goes on from the block the last one took.
    /// If no such block is granted, the kernel's choice is taken: output stays valid, only
    /// the same-bytes promise may then fail for a rare chunk. Elsewhere than on x86-64 the
    /// match finder with the stray write is not used, and the kernel's choice is taken.
    private static func mapInaccessible(size: Int, streamOffset: Int, bucket: Int) -> UnsafeMutableRawPointer? {
        func map(at hint: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
            guard let base = mmap(hint, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED
            else { return nil }
            return base
        }
        #if arch(x86_64)
            var block = nextBlock.withLock { $0 }
            for _ in 0..<64 {
                block = self.block(after: block, bucket: bucket)
                let hint = UnsafeMutableRawPointer(bitPattern: block * blockSize - UInt(streamOffset))
                guard let base = map(at: hint) else { continue }
                if base == hint {
                    nextBlock.withLock { $0 = max($0, block) }
                    return base
                }
                munmap(base, size)
            }
        #endif
        return map(at: nil)
    }

    /// The first 64 KiB block after `start` whose bucket is `bucket`: found with
    /// ``solvedBlock(after:bucket:)``, or where the hash is not the linear CRC assumed, by
    /// hashing blocks one by one.
    static func block(after start: UInt, bucket: Int) -> UInt {
        if let solved = solvedBlock(after: start, bucket: bucket) { return solved }
        var block = start + 1
        while self.bucket(ofBlock: block) != bucket { block += 1 }
        return block
    }

    /// The first 64 KiB block after `start` whose bucket is `bucket`, with one CRC per 65,536
    /// blocks; nil if the answer does not check out (the hash is not linear).
    ///
    /// The bucket is a CRC from 0 with no inversion, which is linear over GF(2): the bucket
    /// of a block is the bucket of its bits above the low 16 XOR the bucket of its low 16
    /// bits, and the latter come from a table (``lowBuckets``). Hashing blocks one by one
    /// took ~8,000 CRCs, ~0.3 ms, for every workspace a process mapped.
    static func solvedBlock(after start: UInt, bucket: Int) -> UInt? {
        let lowMask = UInt(lowBuckets.count - 1)
        var block = start + 1
        while true {
            let target = UInt16(bucket ^ self.bucket(ofBlock: block & ~lowMask))
            if let low = lowBuckets[Int(block & lowMask)...].firstIndex(of: target) {
                let found = block & ~lowMask | UInt(low)
                return self.bucket(ofBlock: found) == bucket ? found : nil
            }
            block = (block | lowMask) + 1
        }
    }

    /// The bucket of each value of a block's low 16 bits, from the buckets of the 16 single
    /// bits: the bucket of any other value is the XOR of its bits' buckets.
    private static let lowBuckets: [UInt16] = {
        let bitBuckets = (0..<16).map { UInt16(bucket(ofBlock: 1 << UInt($0))) }
        var buckets = [UInt16](repeating: 0, count: 1 << 16)
        for low in 1..<buckets.count {
            buckets[low] = buckets[low & (low - 1)] ^ bitBuckets[low.trailingZeroBitCount]
        }
        return buckets
    }()

    /// Where the search for a stream's block goes on: 16 TiB, in 64 KiB blocks, at first.
    private static let nextBlock = Mutex<UInt>((1 << 44) / blockSize)

    deinit {
        munmap(mapping, mappingSize)
    }

    /// Zeroes the stream state and the level buffer. ISA-L initialises what it reads (2,304
    /// calls on stale or garbage-filled workspaces gave the same bytes), so this is a guard
    /// against a library version that does not; it costs nothing measurable per 1 MiB chunk.
    func reset() {
        UnsafeMutableRawPointer(stream).initializeMemory(
            as: UInt8.self, repeating: 0, count: MemoryLayout<isal_zstream>.size)
        levelBuffer.initializeMemory(as: UInt8.self, repeating: 0, count: levelBufferSize)
    }

    private static let pool = Mutex<[ISALWorkspace]>([])

    /// Runs `body` with a zeroed workspace of its own, taken from the pool (or mapped if
    /// the pool is empty) and returned to it afterwards.
    static func withWorkspace<T>(_ body: (ISALWorkspace) throws -> T) throws -> T {
        let pooled = pool.withLock { $0.popLast() }
        guard let workspace = pooled ?? ISALWorkspace() else {
            throw KernelFault("cannot map memory for the deflate engine's state: \(String(cString: strerror(errno)))")
        }
        defer { pool.withLock { $0.append(workspace) } }
        workspace.reset()
        return try body(workspace)
    }
}
