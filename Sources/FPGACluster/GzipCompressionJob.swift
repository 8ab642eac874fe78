import FPGADevice
import FPGADrivers

/// Gzip compression as a cluster job: each input chunk becomes one gzip member.
public struct GzipCompressionJob: DeviceJob {
    public typealias Input = ArraySlice<UInt8>
    public typealias Output = [UInt8]

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
}

extension GzipDriver: JobDriver {
    public func run(_ input: ArraySlice<UInt8>) async throws -> [UInt8] {
        try await compressMember(input)
    }
}
