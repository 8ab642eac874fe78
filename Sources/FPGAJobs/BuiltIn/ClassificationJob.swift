import FPGADevice
import FPGADrivers
import FPGAKernels
import FPGATransport

/// CNV-W1A1 classification as a cluster job: each input is a batch of NHWC images
/// (3072 bytes each), each output one class index (0...9) per image, in order.
///
/// A node runs it with a `FINNDriver` on the program named after the model
/// (`CNVModel.programName`), so a batch only ever runs where that model's
/// weights are bound. On the wire its kind is `cnv`; its parameters are the batch size
/// (u32 little-endian) and the program name (UTF-8, the rest of the parameters).
public struct ClassificationJob: RemoteJob {
    /// NHWC images, a whole number of them, at most ``batchSize``.
    public typealias Input = ArraySlice<UInt8>
    /// One class index per image.
    public typealias Output = ArraySlice<UInt8>

    /// The classifier program, `cnv-<model identity>`.
    public let program: String
    /// The most images one input holds (the driver's buffers hold that many).
    public let batchSize: Int

    /// The batch sizes the job accepts (16,384 images are 48 MiB, within a frame's limit).
    public static let batchSizeRange = 1...16_384

    /// 64 images: about 2.5 ms on one core of the benchmark machine, long enough that
    /// the per-batch cost (driver calls, a frame each way for remote nodes) stays a few
    /// per cent (2 simulated devices: 46,700 images/s against 49,500 at 128 and 39,000 at
    /// 16), short enough that 100 images already spread over two nodes (the fixed cost
    /// of a small call) and large inputs balance well (see the DocsSite's benchmarks).
    public static let defaultBatchSize = 64

    /// The bytes of one image: 32 x 32 pixels, R, G, B.
    public static let imageBytes = FINNDriver.cifarImageBytes

    /// The job for `model` in batches of up to `batchSize` images.
    public init(model: CNVModel, batchSize: Int = ClassificationJob.defaultBatchSize) throws {
        try self.init(program: model.programName, batchSize: batchSize)
    }

    /// The job for the classifier program named `program` (`cnv-<identity>`).
    public init(program: String, batchSize: Int) throws {
        guard CNVModel.identity(ofProgram: program) != nil else {
            throw NodeError.invalidParameters(
                Self.kind, reason: "program '\(program)' is not cnv-<16 hex digits>")
        }
        guard Self.batchSizeRange.contains(batchSize) else {
            throw ConfigurationError.invalidBatchSize(batchSize, range: Self.batchSizeRange)
        }
        self.program = program
        self.batchSize = batchSize
    }

    public var driverKey: String { "batch\(batchSize)" }

    public func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        try await FINNDriver(device: device, imageBytes: Self.imageBytes, maxBatch: batchSize)
    }

    public static let kind = "cnv"

    /// The batch size, u32 little-endian, then the program name in UTF-8.
    public func encodeParameters(into writer: inout WireWriter) throws {
        writer.u32(UInt32(batchSize))
        writer.raw(program.utf8)
    }

    /// Rebuilds the job from its parameters, checking them as a worker must.
    public init(parameters reader: inout WireReader) throws {
        let size = Int(try reader.u32("batch size"))
        guard let program = String(validating: reader.rest(), as: UTF8.self) else {
            throw NodeError.invalidParameters(Self.kind, reason: "the program name is not UTF-8")
        }
        try self.init(program: program, batchSize: size)
    }
}

extension FINNDriver: JobDriver {
    /// Classifies one batch of NHWC images.
    public func run(_ input: ArraySlice<UInt8>) async throws -> ArraySlice<UInt8> {
        try await classify(input)[...]
    }
}
