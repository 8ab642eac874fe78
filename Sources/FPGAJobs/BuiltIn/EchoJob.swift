import FPGADevice
import FPGATransport

/// A job whose output is its input, run without touching a device: it measures the
/// pipeline alone, the scheduler and the transport without a kernel's work (the `echo`
/// program every worker process offers, which a ``LocalNode`` runs without loading
/// anything).
public struct EchoJob: RemoteJob {
    public typealias Input = ArraySlice<UInt8>
    public typealias Output = ArraySlice<UInt8>

    public init() {}

    /// Inputs one worker process echoes at once per device.
    public static var capacity: Int { EchoDriver.capacity }

    public static let kind = "echo"
    public var program: String { Self.kind }
    public var driverKey: String { Self.kind }
    /// Echo needs no program: a node runs it next to whatever it has loaded.
    public var runsOnHost: Bool { true }

    public func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        EchoDriver()
    }

    public func encodeParameters(into writer: inout WireWriter) {}
    public init(parameters reader: inout WireReader) {}
}

/// Echo on the host of a local node: the output is a copy of the input in memory of its
/// own, as a card's result lands in host memory through one DMA, so the embedded cluster's
/// echo moves every byte once (a worker process echoes what it read from the socket).
struct EchoDriver: JobDriver {
    /// Inputs echoed at once on one node.
    static let capacity = 4
    var capacity: Int { Self.capacity }
    func run(_ input: ArraySlice<UInt8>) async throws -> ArraySlice<UInt8> { ArraySlice(Array(input)) }
}
