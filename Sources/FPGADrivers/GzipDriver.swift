import FPGADevice
import FPGAExecution
import FPGAKernels

/// Host code for `xilGzipCompBlock` on any ``Device``: turns chunks into gzip members.
///
/// Buffers are allocated once, when the driver is made: for each compute unit, two
/// slots (input, output, size and checksum buffers in the unit's memory group), so one
/// chunk uploads while the previous one compresses. Concurrent calls spread over every
/// compute unit. The driver runs on its device's thread, so its calls into the device
/// do not hop threads.
public actor GzipDriver {
    /// The device the driver runs on.
    public nonisolated let device: any Device
    /// The largest chunk one call accepts.
    public nonisolated let maxChunkSize: Int
    /// The number of compute units in use.
    public nonisolated let computeUnits: Int
    /// The number of chunks the driver can hold at once (two per compute unit).
    public nonisolated var capacity: Int { computeUnits * Self.slotsPerComputeUnit }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { device.unownedExecutor }

    static let slotsPerComputeUnit = 2

    /// The capacity a driver on `xclbin` has: two chunks per compute unit of
    /// `xilGzipCompBlock` (at least one, so that a program without the kernel still names
    /// a capacity; the driver itself refuses such a program).
    public static func capacity(of xclbin: Xclbin) -> Int {
        let units = xclbin.kernels.first { $0.name == GzipCompBlockKernel.kernelName }?.computeUnits.count ?? 0
        return max(1, units * slotsPerComputeUnit)
    }

    private struct Slot {
        let kernel: Kernel
        let input: BufferObject
        let output: BufferObject
        let size: BufferObject
        let checksum: BufferObject
    }
    private var freeSlots: [Slot]
    private let slotsAvailable: AsyncSemaphore

    /// Opens every compute unit of `xilGzipCompBlock` in the device's loaded xclbin and
    /// allocates its buffers for chunks of up to `maxChunkSize` bytes.
    public init(device: any Device, maxChunkSize: Int) async throws {
        guard maxChunkSize > 0, maxChunkSize <= GzipMember.maxChunkSize else {
            throw GzipError.chunkTooLarge(maxChunkSize, limit: GzipMember.maxChunkSize)
        }
        self.device = device
        self.maxChunkSize = maxChunkSize
        let all = try await device.openKernel(GzipCompBlockKernel.kernelName)
        var slots: [Slot] = []
        for unitName in all.computeUnitNames {
            let kernel = try await device.openKernel(unitName)
            for _ in 0..<Self.slotsPerComputeUnit {
                typealias Argument = GzipCompBlockKernel.Argument
                slots.append(
                    Slot(
                        kernel: kernel,
                        input: try await device.allocateBuffer(
                            size: maxChunkSize, group: kernel.group(forArgument: Argument.input)),
                        output: try await device.allocateBuffer(
                            size: Self.outputCapacity(forChunk: maxChunkSize),
                            group: kernel.group(forArgument: Argument.output)),
                        size: try await device.allocateBuffer(
                            size: 4, group: kernel.group(forArgument: Argument.compressedSize)),
                        checksum: try await device.allocateBuffer(
                            size: 4, group: kernel.group(forArgument: Argument.checksum))))
            }
        }
        computeUnits = all.computeUnits.count
        freeSlots = slots
        slotsAvailable = AsyncSemaphore(permits: slots.count)
    }

    /// The output buffer size for chunks of `chunkSize` bytes: room for incompressible
    /// data stored with its block headers.
    public static func outputCapacity(forChunk chunkSize: Int) -> Int {
        chunkSize + chunkSize / 64 + 4096
    }

    /// Compresses one chunk into one gzip member.
    public func compressMember(_ chunk: some Collection<UInt8> & Sendable) async throws -> [UInt8] {
        try await compressMember(count: chunk.count) { device, input in
            try await device.syncToDevice(input, from: chunk)
            return chunk.count
        }
    }

    /// Compresses the bytes `fill` writes into the input buffer (up to `count`; a read
    /// straight from a file, with no copy in between) into one gzip member of the bytes
    /// it wrote. `fill` runs on the device's thread and may block it.
    public func compressMember(
        count: Int, filling fill: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int
    ) async throws -> [UInt8] {
        try await compressMember(count: count) { device, input in
            try await device.syncToDevice(input, count: count, offset: 0, filling: fill)
        }
    }

    /// Compresses one chunk of at most `count` bytes, which `upload` puts into the input
    /// buffer (returning how many), into one gzip member.
    private func compressMember(
        count limit: Int, upload: (any Device, BufferObject) async throws -> Int
    ) async throws -> [UInt8] {
        guard limit <= maxChunkSize else { throw GzipError.chunkTooLarge(limit, limit: maxChunkSize) }
        try await slotsAvailable.acquire()
        let slot = freeSlots.removeLast()
        defer {
            freeSlots.append(slot)
            slotsAvailable.release()
        }
        let count = limit > 0 ? try await upload(device, slot.input) : 0
        try await device.syncToDevice(slot.checksum, from: Self.crcSeed)
        // The kernel overwrites the size; zero it first so that a run that wrote nothing
        // (XRT's noop shim, a misbehaving card) reads as 0 bytes, refused below, rather
        // than as whatever the buffer held.
        try await device.syncToDevice(slot.size, from: Self.zeroSize)
        let run = try await device.start(
            slot.kernel,
            arguments: [
                .buffer(slot.input), .buffer(slot.output), .buffer(slot.size), .buffer(slot.checksum),
                .scalar(UInt32(count)), .scalar(true),
            ])
        // The slot's buffers belong to the run until it ends, even if this task is cancelled.
        try await device.waitForCompletionBeforeCancelling(run)
        let compressed = try await device.syncFromDevice(slot.size, size: 4) {
            Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)))
        }
        let crc = try await device.syncFromDevice(slot.checksum, size: 4) {
            UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))
        }
        // A card (or XRT's noop shim, which computes nothing) can report a size no real
        // compression has: refuse it rather than assemble a member around garbage.
        guard compressed <= slot.output.size else {
            throw DeviceError.runFailed(
                kernel: run.kernelName,
                message: "reported \(compressed) compressed bytes in a \(slot.output.size)-byte buffer")
        }
        guard compressed > 0 || count == 0 else {
            throw DeviceError.runFailed(
                kernel: run.kernelName, message: "reported 0 compressed bytes for \(count) input bytes")
        }
        guard count > 0 || crc == 0 else {
            throw DeviceError.runFailed(
                kernel: run.kernelName, message: "reported CRC-32 \(crc) for empty input (it is 0)")
        }
        // One copy, from device memory into the member, where a sync and a copy out of
        // the mapping would make two.
        return try await device.syncFromDevice(slot.output, size: compressed) { deflateBlocks in
            GzipMember.assemble(deflateBlocks: deflateBlocks, crc: crc, uncompressedSize: count)
        }
    }

    /// The size buffer's value before a run: zero.
    private static let zeroSize: [UInt8] = [0, 0, 0, 0]

    /// The CRC register before any data, as the kernel takes it.
    private static let crcSeed: [UInt8] = [0xff, 0xff, 0xff, 0xff]
}
