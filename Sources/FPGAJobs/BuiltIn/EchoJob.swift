import FPGADevice

/// A job whose output is its input, run by the worker process without touching a
/// device: it measures the transport alone (the `echo` program every worker offers).
public struct EchoJob: DeviceJob {
    public typealias Input = ArraySlice<UInt8>
    public typealias Output = ArraySlice<UInt8>

    public init() {}

    public static let kind = "echo"
    public var program: String { Self.kind }
    public var driverKey: String { Self.kind }
    public var parameters: [UInt8] { [] }

    public func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        EchoDriver()
    }

    public func weight(of input: Input) -> Int { input.count }
    public func encode(_ input: Input) -> ArraySlice<UInt8> { input }
    public func decodeOutput(_ payload: ArraySlice<UInt8>) throws -> Output { payload }
}

/// Echo on the host, for nodes in this process.
struct EchoDriver: JobDriver {
    var capacity: Int { 4 }
    func run(_ input: ArraySlice<UInt8>) async throws -> ArraySlice<UInt8> { input }
}
