import FPGADevice
import FPGAExecution
import FPGAKernels

/// Host code for a FINN-built classifier on any ``Device``: images in, one class per
/// image out.
///
/// It finds the compute units named `idma0` and `odma0` in the loaded xclbin (whatever
/// dataflow partition kernels hold them), allocates one input and one output buffer for
/// batches of up to ``maxBatch`` images in their memory groups, and for each batch starts
/// `idma0(addr, numReps)`, starts `odma0(addr, numReps)` and waits for `odma0`, as FINN's
/// own Alveo driver does. Batches run one at a time (the accelerator is one pipeline).
public actor FINNDriver {
    public nonisolated let device: any Device
    /// The bytes of one image (32 x 32 x 3 for CNV-W1A1).
    public nonisolated let imageBytes: Int
    /// The most images one call accepts.
    public nonisolated let maxBatch: Int
    /// How long to wait for `odma0`; nil waits without limit. The device measures it on its
    /// own clock (a ``SimulatedDevice``'s injected clock, XRT's wait on a card).
    public nonisolated let runTimeout: Duration?
    /// Batches the driver works on at once.
    public nonisolated var capacity: Int { Self.batchesAtOnce }
    /// Batches any FINN driver works on at once: one (the accelerator is one pipeline).
    public static let batchesAtOnce = 1

    public nonisolated var unownedExecutor: UnownedSerialExecutor { device.unownedExecutor }

    private let input: Kernel
    private let output: Kernel
    private let inputBuffer: BufferObject
    private let outputBuffer: BufferObject
    private let turn = AsyncSemaphore(permits: 1)

    /// CIFAR-10 images: 32 x 32 pixels, 3 channels of uint8.
    public static let cifarImageBytes = 32 * 32 * 3

    /// Opens `idma0` and `odma0` on the device's loaded xclbin and allocates their buffers.
    public init(
        device: any Device, imageBytes: Int = FINNDriver.cifarImageBytes, maxBatch: Int,
        runTimeout: Duration? = .seconds(60)
    ) async throws {
        guard imageBytes > 0, maxBatch > 0, maxBatch <= Int(UInt32.max), imageBytes <= Int.max / maxBatch else {
            throw FINNError.invalidConfiguration(imageBytes: imageBytes, maxBatch: maxBatch)
        }
        self.device = device
        self.imageBytes = imageBytes
        self.maxBatch = maxBatch
        self.runTimeout = runTimeout
        guard let xclbin = await device.xclbin else { throw DeviceError.noXclbinLoaded(device: device.info.name) }
        let input = try await Self.open(FINNDataflow.inputInstance, of: xclbin, on: device)
        let output = try await Self.open(FINNDataflow.outputInstance, of: xclbin, on: device)
        let address = FINNDataflow.Argument.address
        inputBuffer = try await device.allocateBuffer(
            size: imageBytes * maxBatch, group: input.group(forArgument: address))
        outputBuffer = try await device.allocateBuffer(size: maxBatch, group: output.group(forArgument: address))
        self.input = input
        self.output = output
    }

    /// Opens compute unit `instance` of whichever kernel of `xclbin` has it.
    private static func open(_ instance: String, of xclbin: Xclbin, on device: any Device) async throws -> Kernel {
        guard let kernel = xclbin.kernels.first(where: { $0.computeUnits.contains { $0.name == instance } }) else {
            throw FINNError.missingComputeUnit(instance, xclbin: xclbin.name)
        }
        return try await device.openKernel("\(kernel.name):{\(instance)}")
    }

    /// Classifies `images` (a whole number of images, at most ``maxBatch``): one class
    /// index per image, in order.
    public func classify(_ images: some Collection<UInt8> & Sendable) async throws -> [UInt8] {
        let byteCount = images.count
        guard byteCount % imageBytes == 0 else {
            throw FINNError.partialImage(bytes: byteCount, imageBytes: imageBytes)
        }
        let count = byteCount / imageBytes
        guard count <= maxBatch else { throw FINNError.batchTooLarge(count, limit: maxBatch) }
        guard count > 0 else { return [] }
        try await turn.acquire()
        defer { turn.release() }
        try await device.syncToDevice(inputBuffer, from: images)
        let reps = KernelArgument.scalar(UInt32(count))
        let pushing = try await device.start(input, arguments: [.buffer(inputBuffer), reps])
        let pulling = try await device.start(output, arguments: [.buffer(outputBuffer), reps])
        // The buffers belong to the runs until they end, even if this task is cancelled.
        let device = self.device
        let timeout = runTimeout
        try await Task {
            try await device.waitForCompletion(pulling, timeout: timeout)
            try await device.waitForCompletion(pushing, timeout: timeout)
        }.value
        return try await device.syncFromDevice(outputBuffer, size: count) { Array($0) }
    }
}

/// Why a FINN classification could not run.
public enum FINNError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The loaded xclbin has no compute unit of that name.
    case missingComputeUnit(String, xclbin: String)
    /// Input bytes that are not a whole number of images.
    case partialImage(bytes: Int, imageBytes: Int)
    /// More images than the driver's buffers hold.
    case batchTooLarge(Int, limit: Int)
    /// An image size or batch limit that is zero, negative or too large.
    case invalidConfiguration(imageBytes: Int, maxBatch: Int)

    public var description: String {
        switch self {
        case .missingComputeUnit(let name, let xclbin):
            "xclbin \(xclbin) has no compute unit \(name) (is it a FINN accelerator?)"
        case .partialImage(let bytes, let imageBytes):
            "\(bytes) bytes is not a whole number of \(imageBytes)-byte images"
        case .batchTooLarge(let count, let limit): "a batch of \(count) images exceeds the limit of \(limit)"
        case .invalidConfiguration(let imageBytes, let maxBatch):
            "invalid FINN driver configuration: \(imageBytes)-byte images, batches of \(maxBatch)"
        }
    }
}
