import FPGADevice
import FPGADrivers

/// Gzip compression as a cluster job: each input chunk becomes one gzip member.
public struct GzipCompressionJob: DeviceJob {
    public typealias Input = ArraySlice<UInt8>
    public typealias Output = ArraySlice<UInt8>

    /// The largest chunk the job sends to a device.
    public var chunkSize: Int

    public init(chunkSize: Int) {
        self.chunkSize = chunkSize
    }

    public var program: String { "gzip" }
    public var driverKey: String { "chunk\(chunkSize)" }

    public func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        try await GzipDriver(device: device, maxChunkSize: chunkSize)
    }

    public func weight(of input: Input) -> Int { input.count }

    public static let kind = "gzip"

    /// The chunk size, u32 little-endian.
    public var parameters: [UInt8] {
        withUnsafeBytes(of: UInt32(chunkSize).littleEndian) { Array($0) }
    }

    public func encode(_ input: Input) -> ArraySlice<UInt8> { input }

    public func decodeOutput(_ payload: ArraySlice<UInt8>) throws -> Output { payload }

    /// Rebuilds the job from ``parameters``, checking them as a worker must.
    public init(parameters: [UInt8]) throws {
        guard parameters.count == 4 else {
            throw ClusterError.jobNotRemotable("gzip with \(parameters.count) parameter bytes")
        }
        let size = Int(parameters.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        guard Cluster.Configuration.chunkSizeRange.contains(size) else {
            throw ConfigurationError.invalidChunkSize(size, range: Cluster.Configuration.chunkSizeRange)
        }
        self.init(chunkSize: size)
    }
}

extension GzipDriver: JobDriver {
    public func run(_ input: ArraySlice<UInt8>) async throws -> ArraySlice<UInt8> {
        try await compressMember(input)[...]
    }
}
