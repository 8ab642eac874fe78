import FPGAExecution
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

@Suite("BulkMemory")
struct BulkMemoryTests {
    /// Whether every byte of `bytes` is zero.
    private func allZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.withMemoryRebound(to: UInt8.self) { !$0.contains { $0 != 0 } }
    }

    @Test("a small block is zeroed, exactly its size, 64-byte aligned, with a zeroed tail")
    func smallBlock() {
        let memory = BulkMemory(byteCount: 1000, zeroedTail: 64)
        #expect(memory.bytes.count == 1000)
        #expect(Int(bitPattern: memory.bytes.baseAddress) % 64 == 0)
        #expect(!memory.isHugePageMapping)
        let withTail = UnsafeRawBufferPointer(start: memory.bytes.baseAddress, count: 1064)
        #expect(allZero(withTail))
        memory.bytes.storeBytes(of: 0xAB, toByteOffset: 999, as: UInt8.self)
        #expect(memory.bytes[999] == 0xAB)
    }

    @Test("an empty block still has an address")
    func emptyBlock() {
        let memory = BulkMemory(byteCount: 0)
        #expect(memory.bytes.count == 1)
        #expect(memory.bytes[0] == 0)
    }

    @Test("a large block is zeroed and exactly its size; with huge pages it is aligned to them")
    func largeBlock() {
        let size = (4 << 20) + 3
        let memory = BulkMemory(byteCount: size, zeroedTail: 64)
        #expect(memory.bytes.count == size)
        #expect(memory.isHugePageMapping == (BulkMemory.hugePageSize != nil))
        if let huge = BulkMemory.hugePageSize {
            #expect(Int(bitPattern: memory.bytes.baseAddress) % huge == 0)
        }
        let withTail = UnsafeRawBufferPointer(start: memory.bytes.baseAddress, count: size + 64)
        #expect(allZero(withTail))
        memory.bytes.storeBytes(of: 1, toByteOffset: 0, as: UInt8.self)
        memory.bytes.storeBytes(of: 2, toByteOffset: size - 1, as: UInt8.self)
        #expect(memory.bytes[0] == 1 && memory.bytes[size - 1] == 2)
    }

    #if os(Linux)
        /// The `VmFlags` of the mapping that holds `address`, from /proc/self/smaps, or nil
        /// if none does. (Neighbouring mappings with the same flags may have merged with it.)
        private func mappingFlags(holding address: UInt) -> [Substring]? {
            guard let file = fopen("/proc/self/smaps", "r") else { return nil }
            defer { fclose(file) }
            var inMapping = false
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(line) }
            while getline(&line, &capacity, file) > 0, let line {
                let text = String(cString: line)
                let fields = text.split(separator: " ", maxSplits: 1)
                let bounds = fields.first?.split(separator: "-") ?? []
                if bounds.count == 2, let low = UInt(bounds[0], radix: 16), let high = UInt(bounds[1], radix: 16) {
                    inMapping = low <= address && address < high
                } else if inMapping, text.hasPrefix("VmFlags:") {
                    return text.dropFirst("VmFlags:".count).split(whereSeparator: { $0 == " " || $0 == "\n" })
                }
            }
            return nil
        }

        @Test(
            "a large block's whole huge pages are advised, and what follows them is not",
            .enabled(if: BulkMemory.hugePageSize != nil))
        func largeBlockMapping() throws {
            let huge = try #require(BulkMemory.hugePageSize)
            let memory = BulkMemory(byteCount: huge + 100, zeroedTail: 64)
            let base = UInt(bitPattern: memory.bytes.baseAddress)
            let flags = try #require(mappingFlags(holding: base))
            #expect(flags.contains("hg"), "MADV_HUGEPAGE sets the mapping's hg flag")
            let lastPage = try #require(mappingFlags(holding: base + UInt(huge) + 100))
            #expect(!lastPage.contains("hg"), "the bytes past the last whole huge page keep small pages")
            #expect(memory.bytes[huge + 99] == 0)
            let small = BulkMemory(byteCount: huge - 1)
            let heapFlags = try #require(mappingFlags(holding: UInt(bitPattern: small.bytes.baseAddress)))
            #expect(!heapFlags.contains("hg"))
        }
    #endif
}
