#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Zero-filled memory for the buffers bulk data streams through: chunks, members and the
/// sides of buffer objects, megabytes each.
///
/// Memory the kernel hands out is mapped, and zeroed, on first touch, one 4 KiB page per
/// fault. A job that fills fresh 2 MiB buffers pays 512 faults for each; `fpga-compress -d`
/// of a 64 MiB file took 4,263 of them where `igzip -d` took 610, most in the inflater's
/// first writes to its output buffers. So a block of at least one huge page is mapped on its
/// own, aligned to the huge page size, with `MADV_HUGEPAGE` over the whole huge pages that
/// ``bytes`` spans: where transparent huge pages are enabled (`always` or `madvise`,
/// Debian's default), each 2 MiB of them comes in one fault. What lies past the last whole
/// huge page (a spare byte, the zeroed tail) keeps 4 KiB pages, so reading a tail costs no
/// huge page. Where huge pages are off, or none is free, the kernel falls back to 4 KiB
/// pages and nothing else changes. Smaller blocks come from the C heap.
///
/// ``bytes`` is exactly the size asked for; the mapping behind a large block is rounded up
/// to whole huge pages, and the `zeroedTail` bytes asked for past the end of ``bytes`` are
/// always mapped, zero, and never written by this type. Freed when the last reference goes.
public final class BulkMemory {
    /// The memory: `byteCount` bytes, zero until written, aligned to at least 64 bytes.
    public let bytes: UnsafeMutableRawBufferPointer

    /// Where ``bytes`` lives, and so how it is freed.
    private enum Storage {
        /// The whole huge-page-aligned mapping, unmapped when freed.
        case mapping(UnsafeMutableRawBufferPointer)
        /// The block from the C heap that holds ``bytes``.
        case heap(UnsafeMutableRawPointer)
    }
    private let storage: Storage

    /// The alignment of ``bytes``: a cache line.
    private static let alignment = 64

    /// Maps or allocates `byteCount` bytes of zeros (at least 1), with `zeroedTail` more
    /// zero bytes readable past their end. Stops the process if the host is out of memory,
    /// as Swift's own allocations do.
    public init(byteCount: Int, zeroedTail: Int = 0) {
        precondition(byteCount >= 0 && zeroedTail >= 0, "negative sizes for BulkMemory")
        let count = max(byteCount, 1)
        let total = count + zeroedTail
        if let huge = Self.hugePageSize, count >= huge,
            let mapped = Self.mapAligned(total, alignment: huge, advising: count / huge * huge)
        {
            storage = .mapping(mapped)
            bytes = UnsafeMutableRawBufferPointer(start: mapped.baseAddress, count: count)
        } else {
            // calloc, not an aligned allocation and memset: calloc leaves memory fresh from
            // the kernel untouched (it is zero already), so untouched pages cost nothing.
            guard let block = calloc(total + Self.alignment - 1, 1) else { fatalError("out of memory: \(total) bytes") }
            storage = .heap(block)
            let aligned = Self.roundUp(Int(bitPattern: block), to: Self.alignment)
            bytes = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: aligned), count: count)
        }
    }

    deinit {
        switch storage {
        case .mapping(let mapping): munmap(mapping.baseAddress, mapping.count)
        case .heap(let block): free(block)
        }
    }

    /// Whether the block is mapped on its own with huge pages advised (false for a block
    /// from the C heap).
    public var isHugePageMapping: Bool {
        if case .mapping = storage { return true }
        return false
    }

    /// `value` rounded up to a multiple of `multiple`.
    private static func roundUp(_ value: Int, to multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

    /// The size of the kernel's transparent huge pages (2 MiB on x86-64 and on arm64 with
    /// 4 KiB pages), or nil where it has none, or ones too large to round buffers up to.
    public static let hugePageSize: Int? = {
        #if os(Linux)
            guard let file = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r") else { return nil }
            defer { fclose(file) }
            var text = [CChar](repeating: 0, count: 32)
            guard fgets(&text, Int32(text.count), file) != nil else { return nil }
            let digits = text.prefix { $0 >= 0x30 && $0 <= 0x39 }.map { Character(Unicode.Scalar(UInt8($0))) }
            guard let size = Int(String(digits)) else { return nil }
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            // Powers of two from two base pages up to 4 MiB: a kernel with 64 KiB pages has
            // 512 MiB ones, and rounding a 2 MiB buffer up to those would waste memory.
            guard size >= 2 * page, size <= 4 << 20, size & (size - 1) == 0 else { return nil }
            return size
        #else
            return nil
        #endif
    }()

    /// An anonymous mapping of `count` bytes rounded up to whole `alignment`s, starting on
    /// an `alignment` boundary, with huge pages advised over its first `advised` bytes; nil
    /// if the kernel refuses.
    private static func mapAligned(_ count: Int, alignment: Int, advising advised: Int)
        -> UnsafeMutableRawBufferPointer?
    {
        let length = roundUp(count, to: alignment)
        // Map one alignment more than needed, then unmap what lies before the first
        // boundary and after the length: what is left starts on a boundary.
        let raw = mmap(nil, length + alignment, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let raw, raw != MAP_FAILED else { return nil }
        let start = roundUp(Int(bitPattern: raw), to: alignment)
        let head = start - Int(bitPattern: raw)
        if head > 0 { munmap(raw, head) }
        let tail = alignment - head
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: start + length), tail) }
        let base = UnsafeMutableRawPointer(bitPattern: start)!
        #if os(Linux)
            // Advice only: refused (a kernel without transparent huge pages), the mapping
            // keeps 4 KiB pages.
            _ = madvise(base, advised, MADV_HUGEPAGE)
        #endif
        return UnsafeMutableRawBufferPointer(start: base, count: length)
    }
}
