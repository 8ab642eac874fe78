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
/// The match finder trusts its hash table only as far as a match it points to checks out,
/// so a stray write into the table does not corrupt the output, but it does change which
/// matches are chosen: the output stays valid but is no longer the same bytes for the same
/// input. The kernel promises the same bytes, so its working memory lives in pages of its
/// own, mapped once, with an inaccessible page on each side, never in the shared heap: no
/// other allocation can sit next to it, and an overrun in either direction faults instead
/// of writing into someone else's memory. Workspaces are pooled and reused, so a run pays
/// for zeroing the state, not for mapping it.
final class ISALWorkspace: @unchecked Sendable {
    // `@unchecked Sendable`: a workspace is used by one thread at a time. It is handed out
    // by `withWorkspace`, which removes it from the pool under the pool's lock and puts it
    // back only after that thread's deflate call has returned.

    let stream: UnsafeMutablePointer<isal_zstream>
    let levelBuffer: UnsafeMutableRawPointer
    let levelBufferSize: Int
    private let mapping: UnsafeMutableRawPointer
    private let mappingSize: Int

    private init?() {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        func roundUp(_ value: Int) -> Int { (value + page - 1) / page * page }
        let streamBytes = roundUp(MemoryLayout<isal_zstream>.size)
        levelBufferSize = Int(cisal_level1_buffer_size())
        let levelBytes = roundUp(levelBufferSize)
        mappingSize = page + streamBytes + levelBytes + page
        guard
            let base = mmap(nil, mappingSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            base != MAP_FAILED
        else { return nil }
        mapping = base
        guard mprotect(base + page, streamBytes + levelBytes, PROT_READ | PROT_WRITE) == 0 else {
            munmap(base, mappingSize)
            return nil
        }
        stream = (base + page).bindMemory(to: isal_zstream.self, capacity: 1)
        levelBuffer = base + page + streamBytes
    }

    deinit {
        munmap(mapping, mappingSize)
    }

    /// Zeroes the stream state and the level buffer, so that a run depends on its input
    /// alone and not on what the previous run left.
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
