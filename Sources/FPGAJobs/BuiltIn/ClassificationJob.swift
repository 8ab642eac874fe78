import FPGADevice
import FPGADrivers
import FPGAKernels

/// CNV-W1A1 classification as a cluster job: each input is a batch of NHWC images
/// (3072 bytes each), each output one class index (0...9) per image, in order.
///
/// A node runs it with a `FINNDriver` on the program named after the model
/// (`CNVModel.programName`), so a batch only ever runs where that model's
/// weights are bound. On the wire its kind is `cnv`; its parameters are the batch size
/// (u32 little-endian) and the program name (UTF-8).
public struct ClassificationJob: DeviceJob {
    /// NHWC images, a whole number of them, at most ``batchSize``.
    public typealias Input = ArraySlice<UInt8>
    /// One class index per image.
    public typealias Output = ArraySlice<UInt8>

    /// The classifier program, `cnv-<model identity>`.
    public let program: String
    /// The most images one input holds (the driver's buffers hold that many).
    public let batchSize: Int

    /// The job for `model` in batches of up to `batchSize` images.
    public init(model: CNVModel, batchSize: Int = Cluster.Configuration.defaultBatchSize) throws {
        try self.init(program: model.programName, batchSize: batchSize)
    }

    /// The job for the classifier program named `program` (`cnv-<identity>`).
    public init(program: String, batchSize: Int) throws {
        guard CNVModel.identity(ofProgram: program) != nil else {
            throw ClusterError.jobNotRemotable("cnv for program '\(program)' (not cnv-<16 hex digits>)")
        }
        guard Cluster.Configuration.batchSizeRange.contains(batchSize) else {
            throw ConfigurationError.invalidBatchSize(batchSize, range: Cluster.Configuration.batchSizeRange)
        }
        self.program = program
        self.batchSize = batchSize
    }

    public var driverKey: String { "batch\(batchSize)" }

    /// Two batches per remote device: one classifying while the next travels. A worker's
    /// FINN driver runs one batch at a time, so more would only wait in the worker while
    /// other devices may be idle at the end of a job.
    public var remoteInFlightLimit: Int? { 2 }

    public func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        try await FINNDriver(device: device, imageBytes: ImageBatch.imageBytes, maxBatch: batchSize)
    }

    /// Bytes of images, the unit of ``JobProgress``.
    public func weight(of input: Input) -> Int { input.count }

    public static let kind = "cnv"

    /// The batch size, u32 little-endian, then the program name in UTF-8.
    public var parameters: [UInt8] {
        withUnsafeBytes(of: UInt32(batchSize).littleEndian) { Array($0) } + Array(program.utf8)
    }

    public func encode(_ input: Input) -> ArraySlice<UInt8> { input }

    public func decodeOutput(_ payload: ArraySlice<UInt8>) throws -> Output { payload }

    /// Rebuilds the job from ``parameters``, checking them as a worker must.
    public init(parameters: [UInt8]) throws {
        guard parameters.count > 4, let program = String(validating: parameters[4...], as: UTF8.self) else {
            throw ClusterError.jobNotRemotable("cnv with \(parameters.count) malformed parameter bytes")
        }
        let size = Int(parameters.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        try self.init(program: program, batchSize: size)
    }
}

extension FINNDriver: JobDriver {
    /// Classifies one batch of NHWC images.
    public func run(_ input: ArraySlice<UInt8>) async throws -> ArraySlice<UInt8> {
        try await classify(input)[...]
    }
}
