import FPGADevice
import Testing

@testable import FPGAKernels

/// Runs `xilGzipCompBlock` on a simulated card the way the host driver does.
private struct GzipCard {
    let device: SimulatedDevice
    let kernel: Kernel

    init(engine: DeflateEngineKind? = nil, computeUnits: Int = 2, instance: Int = 1) async throws {
        let implementation = engine.map { GzipCompBlockKernel(engine: $0) } ?? GzipCompBlockKernel()
        device = SimulatedDevice(name: "sim-gz-\(engine?.rawValue ?? "default")", kernels: [implementation])
        try await device.loadXclbin(.gzipCompression(computeUnits: computeUnits))
        kernel = try await device.openKernel(
            "\(GzipCompBlockKernel.kernelName):{\(GzipCompBlockKernel.kernelName)_\(instance)}")
    }

    struct Result {
        var state: RunState
        var blocks: [UInt8]
        var checksum: UInt32
    }

    /// One run: allocate in the kernel's groups, write, sync, start, wait, sync back.
    func run(
        _ input: [UInt8], seed: UInt32 = 0xFFFF_FFFF, crc: Bool = true, inputSize: Int? = nil,
        outputCapacity: Int? = nil, sizeCapacity: Int = 4
    ) async throws -> Result {
        typealias Arg = GzipCompBlockKernel.Argument
        let inBuffer = try await device.allocateBuffer(
            size: max(input.count, 1), group: kernel.group(forArgument: Arg.input))
        let outBuffer = try await device.allocateBuffer(
            size: outputCapacity ?? deflateBound(input.count), group: kernel.group(forArgument: Arg.output))
        let sizeBuffer = try await device.allocateBuffer(
            size: sizeCapacity, group: kernel.group(forArgument: Arg.compressedSize))
        let checksumBuffer = try await device.allocateBuffer(size: 4, group: kernel.group(forArgument: Arg.checksum))
        try await device.write(inBuffer, input)
        try await device.sync(inBuffer, .toDevice)
        try await device.write(checksumBuffer, withUnsafeBytes(of: seed.littleEndian) { Array($0) })
        try await device.sync(checksumBuffer, .toDevice)

        let run = try await device.start(
            kernel,
            arguments: [
                .buffer(inBuffer), .buffer(outBuffer), .buffer(sizeBuffer), .buffer(checksumBuffer),
                .scalar(UInt32(inputSize ?? input.count)), .scalar(crc),
            ])
        let state = try await device.wait(run, timeout: nil)
        let buffers = [inBuffer, outBuffer, sizeBuffer, checksumBuffer]
        guard state == .completed else {
            for buffer in buffers { try await device.freeBuffer(buffer) }
            return Result(state: state, blocks: [], checksum: 0)
        }

        try await device.sync(sizeBuffer, .fromDevice)
        let size = Int(
            try await device.read(sizeBuffer, count: 4).withUnsafeBytes {
                UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))
            })
        try #require(size <= outBuffer.size)
        try await device.sync(outBuffer, .fromDevice, size: size, offset: 0)
        let blocks = try await device.read(outBuffer, count: size)
        try await device.sync(checksumBuffer, .fromDevice)
        let checksum = try await device.read(checksumBuffer, count: 4).withUnsafeBytes {
            UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))
        }
        for buffer in buffers { try await device.freeBuffer(buffer) }
        return Result(state: state, blocks: blocks, checksum: checksum)
    }
}

@Suite("GzipCompBlockKernel")
struct GzipCompBlockKernelTests {
    @Test("its argument list is the bitstream's")
    func argumentList() {
        let kernel = GzipCompBlockKernel()
        #expect(kernel.name == "xilGzipCompBlock")
        #expect(
            kernel.arguments == [
                .global("in"), .global("out"), .global("compressd_size"), .global("checksumData"),
                .scalar("input_size", bytes: 4), .scalar("checksumType", bytes: 4),
            ])
        typealias Arg = GzipCompBlockKernel.Argument
        #expect(
            [Arg.input, Arg.output, Arg.compressedSize, Arg.checksum, Arg.inputSize, Arg.checksumType] == Array(0..<6))
        #expect(kernel.engine is ISALDeflateEngine)
        #expect(GzipCompBlockKernel(engine: .zlib).engine is ZlibDeflateEngine)
    }

    @Test(
        "device output plus an empty final block inflates to the input; the checksum is zlib's CRC-32",
        arguments: DeflateEngineKind.allCases, SampleInput.all)
    func roundTripThroughDevice(engine: DeflateEngineKind, input: SampleInput) async throws {
        let card = try await GzipCard(engine: engine)
        let result = try await card.run(input.bytes)
        try #require(result.state == .completed)
        #expect(Array(result.blocks.suffix(4)) == [0x00, 0x00, 0xFF, 0xFF])
        #expect(result.blocks.count <= deflateBound(input.bytes.count))
        #expect(try zlibInflate(result.blocks + finalEmptyStoredBlock) == input.bytes)
        #expect(result.checksum == zlibCRC32(input.bytes))
    }

    @Test(
        "the output framed as a gzip member passes zlib's own CRC and length check",
        arguments: DeflateEngineKind.allCases)
    func gzipMemberDecodes(engine: DeflateEngineKind) async throws {
        let card = try await GzipCard(engine: engine)
        let input = Samples.mixed
        let result = try await card.run(input)
        let member = gzipMember(blocks: result.blocks, crc: result.checksum, size: input.count)
        #expect(try zlibInflate(member, windowBits: 31) == input)
        // The check is real: a wrong CRC is refused.
        let broken = gzipMember(blocks: result.blocks, crc: result.checksum ^ 1, size: input.count)
        #expect(throws: ZlibError.self) { try zlibInflate(broken, windowBits: 31) }
    }

    @Test(
        "chunks compressed in separate runs with chained CRCs make one gzip member",
        arguments: DeflateEngineKind.allCases)
    func chainedRuns(engine: DeflateEngineKind) async throws {
        let card = try await GzipCard(engine: engine)
        let input = Samples.mixed + Samples.text
        let chunkSize = 64 * 1024
        var blocks: [UInt8] = []
        var crc: UInt32 = 0
        for start in stride(from: 0, to: input.count, by: chunkSize) {
            let chunk = Array(input[start..<min(start + chunkSize, input.count)])
            let result = try await card.run(chunk, seed: ~crc)
            try #require(result.state == .completed)
            blocks += result.blocks
            crc = result.checksum
        }
        #expect(crc == zlibCRC32(input))
        #expect(try zlibInflate(gzipMember(blocks: blocks, crc: crc, size: input.count), windowBits: 31) == input)
    }

    @Test("checksumType 0 gives Adler-32 seeded with 1, as zlib computes it")
    func adler() async throws {
        let card = try await GzipCard()
        let input = Samples.random200K
        let result = try await card.run(input, seed: 1, crc: false)
        #expect(result.checksum == zlibAdler32(input))
        #expect(result.checksum != zlibCRC32(input))
        // Chaining Adler-32 takes the previous value as the seed.
        let more = try await card.run(Samples.text, seed: result.checksum, crc: false)
        #expect(more.checksum == zlibAdler32(input + Samples.text))
    }

    @Test("CRC chaining over two calls equals the CRC of the concatenation")
    func crcChaining() async throws {
        let card = try await GzipCard()
        let a = Array(Samples.text.prefix(7_777))
        let b = Array(Samples.random200K.prefix(12_345))
        let first = try await card.run(a)
        let second = try await card.run(b, seed: ~first.checksum)
        #expect(first.checksum == zlibCRC32(a))
        #expect(second.checksum == zlibCRC32(a + b))
    }

    @Test("input_size larger than the in buffer is a run error")
    func inputSizeTooLarge() async throws {
        let card = try await GzipCard()
        let result = try await card.run(Array(Samples.text.prefix(100)), inputSize: 101)
        #expect(result.state == .error)
    }

    @Test("an out buffer too small is a run error", arguments: DeflateEngineKind.allCases)
    func outputTooSmall(engine: DeflateEngineKind) async throws {
        let card = try await GzipCard(engine: engine)
        let result = try await card.run(Samples.random200K, outputCapacity: 1_000)
        #expect(result.state == .error)
    }

    @Test("a compressd_size buffer under 4 bytes is a run error")
    func sizeBufferTooSmall() async throws {
        let card = try await GzipCard()
        let result = try await card.run(Samples.text, sizeCapacity: 2)
        #expect(result.state == .error)
    }

    @Test("every compute unit of a multi-unit card compresses correctly")
    func everyComputeUnit() async throws {
        for instance in 1...3 {
            let card = try await GzipCard(computeUnits: 3, instance: instance)
            #expect(try card.kernel.group(forArgument: GzipCompBlockKernel.Argument.output) == instance - 1)
            let result = try await card.run(Samples.text)
            #expect(try zlibInflate(result.blocks + finalEmptyStoredBlock) == Samples.text)
        }
    }
}
