import FPGADevice
import FPGADrivers
import FPGATransport

/// Gzip compression as a cluster job: each input chunk becomes one gzip member.
///
/// On the wire its kind is `gzip` and its parameters the chunk size (u32); inputs and
/// outputs are bytes, sent as they are.
public struct GzipCompressionJob: RemoteJob {
    public typealias Input = ArraySlice<UInt8>
    public typealias Output = ArraySlice<UInt8>

    /// The largest chunk the job sends to a device.
    public var chunkSize: Int

    /// The chunk sizes the job accepts.
    public static let chunkSizeRange = 1024...(64 << 20)

    public init(chunkSize: Int) {
        self.chunkSize = chunkSize
    }

    public var program: String { "gzip" }
    public var driverKey: String { "chunk\(chunkSize)" }

    public func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        try await GzipDriver(device: device, maxChunkSize: chunkSize)
    }

    public static let kind = "gzip"

    /// The chunk size, u32 little-endian.
    public func encodeParameters(into writer: inout WireWriter) throws {
        guard let size = UInt32(exactly: chunkSize) else {
            throw ConfigurationError.invalidChunkSize(chunkSize, range: Self.chunkSizeRange)
        }
        writer.u32(size)
    }

    /// Rebuilds the job from its parameters, checking the chunk size as a worker must.
    public init(parameters reader: inout WireReader) throws {
        let size = Int(try reader.u32("chunk size"))
        guard Self.chunkSizeRange.contains(size) else {
            throw ConfigurationError.invalidChunkSize(size, range: Self.chunkSizeRange)
        }
        self.init(chunkSize: size)
    }
}

extension GzipDriver: JobDriver {
    public func run(_ input: ArraySlice<UInt8>) async throws -> ArraySlice<UInt8> {
        try await compressMember(input)[...]
    }
}

extension GzipDriver: DeferredInputDriver {
    /// Compresses a chunk read straight into the input buffer.
    public func run(deferred input: DeferredBytes) async throws -> ArraySlice<UInt8> {
        try await compressMember(count: input.count) { buffer in
            try input.read(into: buffer)
            return input.count
        }[...]
    }
}
