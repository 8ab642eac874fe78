import FPGADevice
import FPGATransport

/// A job whose output is its input, run without touching a device: it measures the
/// transport alone (the `echo` program every worker process offers).
public struct EchoJob: RemoteJob {
    public typealias Input = ArraySlice<UInt8>
    public typealias Output = ArraySlice<UInt8>

    public init() {}

    /// Inputs one worker process echoes at once per device.
    public static var capacity: Int { EchoDriver.capacity }

    public static let kind = "echo"
    public var program: String { Self.kind }
    public var driverKey: String { Self.kind }

    public func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        EchoDriver()
    }

    public func encodeParameters(into writer: inout WireWriter) {}
    public init(parameters reader: inout WireReader) {}
}

/// Echo on the host.
struct EchoDriver: JobDriver {
    /// Inputs echoed at once on one node.
    static let capacity = 4
    var capacity: Int { Self.capacity }
    func run(_ input: ArraySlice<UInt8>) async throws -> ArraySlice<UInt8> { input }
}
