import FPGACluster
import FPGADevice

/// Gzip compression as a job without a wire codec (a `DeviceJob`, not a `RemoteJob`): it
/// runs only on devices in this process, and a remote node refuses it.
public struct LocalOnlyGzipJob: DeviceJob {
    public typealias Input = ArraySlice<UInt8>
    public typealias Output = ArraySlice<UInt8>

    public init() {}

    public var program: String { "gzip" }
    public var driverKey: String { "local-only" }

    public func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        try await GzipCompressionJob(chunkSize: 4096).makeDriver(on: device)
    }
}
