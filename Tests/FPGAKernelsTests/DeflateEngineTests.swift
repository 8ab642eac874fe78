import FPGADevice
import Testing

@testable import FPGAKernels

@Suite("Deflate engines")
struct DeflateEngineTests {
    @Test(
        "output plus an empty final block inflates (raw deflate) to the input",
        arguments: DeflateEngineKind.allCases, SampleInput.all)
    func roundTrip(kind: DeflateEngineKind, input: SampleInput) throws {
        let engine = kind.makeEngine()
        let compressed = try engine.compress(input.bytes)
        #expect(compressed.count <= deflateBound(input.bytes.count))
        // A sync flush: the blocks end on a byte boundary with an empty stored block.
        #expect(compressed.count >= 4)
        #expect(Array(compressed.suffix(4)) == [0x00, 0x00, 0xFF, 0xFF])
        // No block is final, so the first block's BFINAL bit is clear.
        #expect(compressed[0] & 1 == 0)
        // Without a final block the stream is incomplete.
        #expect(throws: ZlibError.self) { try zlibInflate(compressed) }
        let restored = try zlibInflate(compressed + finalEmptyStoredBlock)
        #expect(restored.count == input.bytes.count)
        #expect(restored == input.bytes)
    }

    @Test("compressible input shrinks", arguments: DeflateEngineKind.allCases)
    func compresses(kind: DeflateEngineKind) throws {
        let engine = kind.makeEngine()
        #expect(try engine.compress(Samples.repetitive1MiB).count < (1 << 20) / 20)
        #expect(try engine.compress(Samples.zeros).count < Samples.zeros.count / 100)
        #expect(try engine.compress(Samples.text).count < Samples.text.count / 10)
        // Random data barely grows.
        let random = try engine.compress(Samples.random1MiB).count
        #expect(random > (1 << 20) - 1024)
        #expect(random <= deflateBound(1 << 20))
    }

    @Test("an engine is deterministic and keeps no state between inputs", arguments: DeflateEngineKind.allCases)
    func deterministic(kind: DeflateEngineKind) throws {
        let engine = kind.makeEngine()
        let first = try engine.compress(Samples.text)
        _ = try engine.compress(Samples.random200K)
        #expect(try engine.compress(Samples.text) == first)
        #expect(try kind.makeEngine().compress(Samples.text) == first)
    }

    @Test("two outputs concatenated form one stream of both inputs", arguments: DeflateEngineKind.allCases)
    func concatenation(kind: DeflateEngineKind) throws {
        let engine = kind.makeEngine()
        let a = Array(Samples.text.prefix(10_000))
        let b = Array(Samples.random200K.prefix(70_000))
        let stream = try engine.compress(a) + engine.compress(b) + engine.compress([]) + finalEmptyStoredBlock
        #expect(try zlibInflate(stream) == a + b)
    }

    @Test(
        "an output buffer too small throws KernelFault",
        arguments: DeflateEngineKind.allCases,
        [
            SampleInput(name: "random 64 KiB into 1 KiB", bytes: Array(Samples.random1MiB.prefix(1 << 16))),
            SampleInput(name: "repetitive 1 MiB into 16 bytes", bytes: Samples.repetitive1MiB),
            SampleInput(name: "text into 16 bytes", bytes: Samples.text),
        ])
    func outputTooSmall(kind: DeflateEngineKind, input: SampleInput) {
        let capacity = input.bytes.count == 1 << 16 ? 1024 : 16
        #expect(throws: KernelFault.self) { try kind.makeEngine().compress(input.bytes, capacity: capacity) }
    }

    @Test(
        "an output buffer too small for the sync-flush marker throws KernelFault", arguments: DeflateEngineKind.allCases
    )
    func outputTooSmallForMarker(kind: DeflateEngineKind) {
        #expect(throws: KernelFault.self) { try kind.makeEngine().compress([], capacity: 2) }
        #expect(throws: KernelFault.self) { try kind.makeEngine().compress([1, 2, 3], capacity: 4) }
        #expect(throws: KernelFault.self) { try kind.makeEngine().compress([1, 2, 3], capacity: 0) }
    }

    @Test("an output buffer with a byte to spare is enough", arguments: DeflateEngineKind.allCases, SampleInput.all)
    func tightOutput(kind: DeflateEngineKind, input: SampleInput) throws {
        let engine = kind.makeEngine()
        let needed = try engine.compress(input.bytes).count
        let tight = try engine.compress(input.bytes, capacity: needed + 1)
        #expect(try zlibInflate(tight + finalEmptyStoredBlock) == input.bytes)
    }

    @Test("deflateBound is the input plus 1/64 plus 4 KiB")
    func bound() {
        #expect(deflateBound(0) == 4096)
        #expect(deflateBound(1) == 4097)
        #expect(deflateBound(1 << 16) == (1 << 16) + 1024 + 4096)
        #expect(deflateBound(1 << 20) == (1 << 20) + (1 << 14) + 4096)
    }

    @Test("the default engine is ISA-L; every kind makes its engine")
    func kinds() {
        #expect(DeflateEngineKind.default == .isal)
        #expect(DeflateEngineKind.allCases == [.isal, .zlib])
        #expect(DeflateEngineKind.isal.makeEngine() is ISALDeflateEngine)
        #expect(DeflateEngineKind.zlib.makeEngine() is ZlibDeflateEngine)
        #expect(ISALDeflateEngine().name == "isa-l igzip level 1")
        #expect(ZlibDeflateEngine().name == "zlib level 1")
        #expect(DeflateEngineKind(rawValue: "zlib") == .zlib)
    }
}

@Suite("Checksum")
struct ChecksumTests {
    @Test("crc32 equals zlib's crc32", arguments: [0, 1, 3, 15, 16, 17, 63, 64, 65, 1000, 100_000])
    func crcMatchesZlib(count: Int) {
        let bytes = pseudoRandomBytes(count, seed: UInt64(count))
        let expected = zlibCRC32(bytes)
        #expect(bytes.withUnsafeBytes { Checksum.crc32($0) } == expected)
        #expect(Checksum.crc32(bytes) == expected)
        // A collection without contiguous storage takes the other path.
        #expect(Checksum.crc32(bytes.lazy.map { $0 }) == expected)
    }

    @Test("crc32 of the check string is CBF43926")
    func crcCheckValue() {
        #expect(Checksum.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Checksum.crc32([UInt8]()) == 0)
        #expect(Checksum.crc32([UInt8](), continuing: 0xDEAD_BEEF) == 0xDEAD_BEEF)
    }

    @Test("crc32 continues across pieces")
    func crcContinues() {
        let bytes = Samples.mixed
        let split = 123_457
        let first = Checksum.crc32(bytes[..<split])
        #expect(Checksum.crc32(bytes[split...], continuing: first) == zlibCRC32(bytes))
        #expect(zlibCRC32(Array(bytes[split...]), continuing: zlibCRC32(Array(bytes[..<split]))) == zlibCRC32(bytes))
    }

    @Test("adler32 equals zlib's adler32", arguments: [0, 1, 5552, 5553, 100_000])
    func adlerMatchesZlib(count: Int) {
        let bytes = [UInt8](repeating: 0xFF, count: count / 2) + pseudoRandomBytes(count - count / 2, seed: 9)
        #expect(bytes.withUnsafeBytes { Checksum.adler32($0) } == zlibAdler32(bytes))
    }

    @Test("adler32 starts at 1 and continues across pieces")
    func adlerContinues() {
        #expect(Array("Wikipedia".utf8).withUnsafeBytes { Checksum.adler32($0) } == 0x11E6_0398)
        #expect(Checksum.adler32(UnsafeRawBufferPointer(start: nil, count: 0)) == 1)
        let bytes = Samples.random200K
        let first = bytes[..<70_001].withUnsafeBytes { Checksum.adler32($0) }
        let whole = bytes[70_001...].withUnsafeBytes { Checksum.adler32($0, continuing: first) }
        #expect(whole == zlibAdler32(bytes))
    }
}
