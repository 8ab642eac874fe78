import FPGADevice
import FPGAKernels
import FPGATestSync
import Testing

/// What one run of `xilGzipCompBlock` gives back.
private struct GzipRunResult {
    var compressed: [UInt8]
    var checksum: UInt32
}

private enum GzipBench {
    static func device(
        name: String = "sim-gzip", computeUnits: Int = 3, timing: TimingModel? = nil,
        clock: any Clock<Duration> = ContinuousClock()
    ) async throws -> SimulatedDevice {
        let device = SimulatedDevice(name: name, kernels: [GzipCompBlockKernel()], timing: timing, clock: clock)
        try await device.loadXclbin(.gzipCompression(computeUnits: computeUnits))
        return device
    }

    /// Buffers for one run, in the groups `kernel` says, inputs synced to the device.
    static func buffers(
        _ device: SimulatedDevice, kernel: Kernel, input: [UInt8], inputCapacity: Int? = nil,
        outputCapacity: Int? = nil,
        seed: UInt32
    ) async throws -> [BufferObject] {
        let inBuffer = try await device.allocateBuffer(
            size: max(inputCapacity ?? input.count, 1),
            group: try kernel.group(forArgument: GzipCompBlockKernel.Argument.input))
        let outBuffer = try await device.allocateBuffer(
            size: outputCapacity ?? (input.count + input.count / 64 + 4096),
            group: try kernel.group(forArgument: GzipCompBlockKernel.Argument.output))
        let sizeBuffer = try await device.allocateBuffer(
            size: 4, group: try kernel.group(forArgument: GzipCompBlockKernel.Argument.compressedSize))
        let checksumBuffer = try await device.allocateBuffer(
            size: 4, group: try kernel.group(forArgument: GzipCompBlockKernel.Argument.checksum))
        try await device.write(inBuffer, input)
        try await device.sync(inBuffer, .toDevice)
        try await device.write(checksumBuffer, withUnsafeBytes(of: seed.littleEndian) { Array($0) })
        try await device.sync(checksumBuffer, .toDevice)
        return [inBuffer, outBuffer, sizeBuffer, checksumBuffer]
    }

    static func arguments(_ buffers: [BufferObject], inputSize: Int, crc: Bool) -> [KernelArgument] {
        [
            .buffer(buffers[0]), .buffer(buffers[1]), .buffer(buffers[2]), .buffer(buffers[3]),
            .scalar(UInt32(inputSize)), .scalar(crc),
        ]
    }

    /// Compresses `input` with one run and syncs the results back.
    static func compress(
        _ device: SimulatedDevice, kernel: Kernel, _ input: [UInt8], seed: UInt32 = 0xFFFF_FFFF, crc: Bool = true
    ) async throws -> GzipRunResult {
        let buffers = try await buffers(device, kernel: kernel, input: input, seed: seed)
        let run = try await device.start(kernel, arguments: arguments(buffers, inputSize: input.count, crc: crc))
        try await device.waitForCompletion(run)
        let sizeBytes = try await device.fetch(buffers[2])
        let size = Int(sizeBytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        try #require(size <= buffers[1].size)
        try await device.sync(buffers[1], .fromDevice, size: size, offset: 0)
        let compressed = try await device.read(buffers[1], count: size)
        let checksumBytes = try await device.fetch(buffers[3])
        let checksum = checksumBytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        for buffer in buffers { try await device.freeBuffer(buffer) }
        return GzipRunResult(compressed: compressed, checksum: checksum)
    }
}

private let sampleText = Array(
    String(
        repeating: "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.\n", count: 200
    )
    .utf8)

@Suite("GzipCompBlockKernel on a SimulatedDevice")
struct GzipKernelDeviceTests {
    @Test("the gzip xclbin has the U50 demo's shape")
    func xclbinShape() throws {
        let program = Xclbin.gzipCompression(computeUnits: 3)
        try program.validate()
        #expect(program.name == "gzip")
        #expect(program.memoryBanks.count == 32)
        #expect(program.memoryBanks.allSatisfy { $0.size == 256 << 20 })
        #expect(program.memoryBanks[5].tag == "HBM[5]")
        #expect(program.kernels.count == 1)
        let kernel = program.kernels[0]
        #expect(kernel.name == GzipCompBlockKernel.kernelName)
        #expect(kernel.name == "xilGzipCompBlock")
        #expect(
            kernel.arguments.map(\.name) == [
                "in", "out", "compressd_size", "checksumData", "input_size", "checksumType",
            ])
        #expect(kernel.arguments == GzipCompBlockKernel().arguments)
        #expect(kernel.computeUnits.map(\.name) == ["xilGzipCompBlock_1", "xilGzipCompBlock_2", "xilGzipCompBlock_3"])
        for (index, unit) in kernel.computeUnits.enumerated() {
            #expect(unit.connections == [0: index, 1: index, 2: index, 3: index])
        }
        #expect(Set(kernel.computeUnits.map(\.baseAddress)).count == 3)
        #expect(program.uuid == Xclbin.gzipCompression(computeUnits: 3).uuid)
        #expect(program.uuid != Xclbin.gzipCompression(computeUnits: 2).uuid)
        #expect(Xclbin.gzipCompression().kernels[0].computeUnits.count == 3)
    }

    @Test("compressed output ends on a byte boundary with the sync-flush marker", arguments: [0, 1, 100, 17_000])
    func syncFlushMarker(count: Int) async throws {
        let device = try await GzipBench.device()
        let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_1}")
        let input = Array(sampleText.prefix(count))
        let result = try await GzipBench.compress(device, kernel: kernel, input)
        #expect(result.compressed.count >= 4)
        #expect(Array(result.compressed.suffix(4)) == [0x00, 0x00, 0xFF, 0xFF])
        // No block is final: BFINAL is the first bit of the first block.
        #expect(result.compressed[0] & 1 == 0)
    }

    @Test("repetitive input compresses")
    func compresses() async throws {
        let device = try await GzipBench.device()
        let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_1}")
        let result = try await GzipBench.compress(device, kernel: kernel, sampleText)
        #expect(result.compressed.count < sampleText.count / 10)
    }

    @Test("with checksumType 1 the checksum is the CRC-32 of the input", arguments: [0, 1, 5_000])
    func crc32(count: Int) async throws {
        let device = try await GzipBench.device()
        let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_2}")
        let input = pseudoRandomBytes(count, seed: 7)
        let result = try await GzipBench.compress(device, kernel: kernel, input)
        #expect(result.checksum == Reference.crc32(input))
        if count == 0 { #expect(result.checksum == 0) }
    }

    @Test("with checksumType 0 the checksum is the Adler-32 of the input, seeded with 1")
    func adler32() async throws {
        let device = try await GzipBench.device()
        let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_3}")
        let input = Array("Wikipedia".utf8)
        let result = try await GzipBench.compress(device, kernel: kernel, input, seed: 1, crc: false)
        #expect(result.checksum == 0x11E6_0398)  // RFC 1950's well-known value for "Wikipedia"
        let longer = pseudoRandomBytes(70_000, seed: 3)
        let second = try await GzipBench.compress(device, kernel: kernel, longer, seed: 1, crc: false)
        #expect(second.checksum == Reference.adler32(longer))
    }

    @Test("chaining the CRC over two runs (seed = ~previous CRC) gives the CRC of the concatenation")
    func crcChaining() async throws {
        let device = try await GzipBench.device()
        let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_1}")
        let first = pseudoRandomBytes(3_000, seed: 11)
        let second = Array(sampleText.prefix(2_000))
        let one = try await GzipBench.compress(device, kernel: kernel, first)
        let two = try await GzipBench.compress(device, kernel: kernel, second, seed: ~one.checksum)
        #expect(one.checksum == Reference.crc32(first))
        #expect(two.checksum == Reference.crc32(first + second))
        #expect(Reference.crc32(Array("123456789".utf8)) == 0xCBF4_3926, "the reference CRC itself is right")
    }

    @Test("chaining Adler-32 (seed = previous checksum) gives the Adler-32 of the concatenation")
    func adlerChaining() async throws {
        let device = try await GzipBench.device()
        let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_1}")
        let first = pseudoRandomBytes(1_000, seed: 1)
        let second = pseudoRandomBytes(1_500, seed: 2)
        let one = try await GzipBench.compress(device, kernel: kernel, first, seed: 1, crc: false)
        let two = try await GzipBench.compress(device, kernel: kernel, second, seed: one.checksum, crc: false)
        #expect(two.checksum == Reference.adler32(first + second))
    }

    @Test("the kernel compresses only input_size bytes of a larger in buffer")
    func inputSizeSmallerThanBuffer() async throws {
        let device = try await GzipBench.device()
        let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_1}")
        let input = pseudoRandomBytes(1_000, seed: 5)
        let buffers = try await GzipBench.buffers(device, kernel: kernel, input: input, seed: 0xFFFF_FFFF)
        try await device.waitForCompletion(
            try await device.start(kernel, arguments: GzipBench.arguments(buffers, inputSize: 600, crc: true)))
        let checksum = try await device.fetch(buffers[3])
        #expect(checksum == withUnsafeBytes(of: Reference.crc32(input.prefix(600)).littleEndian) { Array($0) })
    }

    @Test("input_size larger than the in buffer ends the run in error")
    func inputSizeTooLarge() async throws {
        let device = try await GzipBench.device()
        let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_1}")
        let buffers = try await GzipBench.buffers(
            device, kernel: kernel, input: Array(repeating: 1, count: 100), seed: 0xFFFF_FFFF)
        let run = try await device.start(kernel, arguments: GzipBench.arguments(buffers, inputSize: 101, crc: true))
        #expect(try await device.wait(run, timeout: nil) == .error)
        let error = await #expect(throws: DeviceError.self) {
            try await device.waitForCompletion(
                try await device.start(kernel, arguments: GzipBench.arguments(buffers, inputSize: 101, crc: true)))
        }
        guard case .runFailed(let name, let message)? = error else {
            Issue.record("expected runFailed, got \(String(describing: error))")
            return
        }
        #expect(name == "xilGzipCompBlock")
        #expect(message.contains("input_size 101"), "the kernel's message is passed on: \(message)")
        // Nothing was written back.
        #expect(try await device.fetch(buffers[2]) == [0, 0, 0, 0])
    }

    @Test("an out buffer too small for the compressed data ends the run in error")
    func outputTooSmall() async throws {
        let device = try await GzipBench.device()
        let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_1}")
        let input = pseudoRandomBytes(10_000, seed: 9)
        let buffers = try await GzipBench.buffers(
            device, kernel: kernel, input: input, outputCapacity: 256, seed: 0xFFFF_FFFF)
        let run = try await device.start(
            kernel, arguments: GzipBench.arguments(buffers, inputSize: input.count, crc: true))
        #expect(try await device.wait(run, timeout: nil) == .error)
    }

    @Test("each compute unit uses its own HBM bank; a buffer in another bank is refused")
    func perComputeUnitBanks() async throws {
        let device = try await GzipBench.device()
        for index in 0..<3 {
            let kernel = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_\(index + 1)}")
            #expect(try kernel.group(forArgument: GzipCompBlockKernel.Argument.input) == index)
            #expect(throws: DeviceError.self) { try kernel.group(forArgument: GzipCompBlockKernel.Argument.inputSize) }
            let result = try await GzipBench.compress(device, kernel: kernel, Array(sampleText.prefix(1_000)))
            #expect(result.checksum == Reference.crc32(sampleText.prefix(1_000)))
        }
        let second = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_2}")
        let first = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_1}")
        let buffers = try await GzipBench.buffers(device, kernel: first, input: [1, 2, 3], seed: 0xFFFF_FFFF)
        await #expect(
            throws: DeviceError.bufferNotConnected(
                computeUnit: "xilGzipCompBlock_2", argument: "in", bufferGroup: 0, connectedGroup: 1)
        ) {
            try await device.start(second, arguments: GzipBench.arguments(buffers, inputSize: 3, crc: true))
        }
    }

    @Test("the timing model charges input_size bytes")
    func timingByInputSize() async throws {
        let clock = ObservedTestClock()
        let device = try await GzipBench.device(
            name: "sim-gzip-rate", computeUnits: 1, timing: TimingModel(latency: .zero, unitsPerSecond: 10_000),
            clock: clock)
        let kernel = try await device.openKernel("xilGzipCompBlock")
        let input = Array(sampleText.prefix(2_000))
        let buffers = try await GzipBench.buffers(device, kernel: kernel, input: input, seed: 0xFFFF_FFFF)
        let run = try await device.start(kernel, arguments: GzipBench.arguments(buffers, inputSize: 2_000, crc: true))
        // 2,000 bytes at 10,000 bytes/s.
        try await expectRun(run, on: device, lasts: .milliseconds(200), clock: clock)
    }

    @Test("a handle on all compute units starts a run on a unit its buffers are connected to")
    func allUnitHandleFollowsConnectivity() async throws {
        // XRT narrows a run's compute units to those connected to its buffers' banks. The
        // first run holds its unit until the test clock passes its latency.
        let clock = ObservedTestClock()
        let device = try await GzipBench.device(
            name: "sim-gzip-cu", timing: slowTiming(.milliseconds(300)), clock: clock)
        let kernel = try await device.openKernel("xilGzipCompBlock")
        let input = Array(sampleText.prefix(1_000))
        let first = try await GzipBench.buffers(device, kernel: kernel, input: input, seed: 0xFFFF_FFFF)
        let second = try await GzipBench.buffers(device, kernel: kernel, input: input, seed: 0xFFFF_FFFF)
        let run1 = try await device.start(
            kernel, arguments: GzipBench.arguments(first, inputSize: input.count, crc: true))
        #expect(run1.computeUnit == "xilGzipCompBlock_1")
        try await clock.waitForSleepers(1)
        // The first unit is busy now, the others idle; the second run's buffers are in bank 0 too.
        let run2 = try await device.start(
            kernel, arguments: GzipBench.arguments(second, inputSize: input.count, crc: true))
        #expect(run2.computeUnit == "xilGzipCompBlock_1")
        #expect(try await device.state(of: run2) == .queued)
        await clock.advance(by: .milliseconds(300) + .nanoseconds(1))
        try await within("the first run") { try await device.waitForCompletion(run1) }
        try await clock.waitForSleepers(1)
        await clock.advance(by: .milliseconds(300) + .nanoseconds(1))
        try await within("the second run") { try await device.waitForCompletion(run2) }
    }
}
