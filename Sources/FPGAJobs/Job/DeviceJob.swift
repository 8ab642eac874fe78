import FPGADevice

/// A kind of work the cluster scatters over its devices: gzip compression,
/// classification, or any other kernel.
///
/// A job names the program (xclbin) a device must have loaded and makes a
/// ``JobDriver`` for a device; each ``WorkerNode`` makes one driver per ``driverKey``
/// the first time it sees the job and reuses it (buffers allocated once, program loaded
/// once). The cluster then feeds the driver inputs, up to its ``JobDriver/capacity`` at
/// once, and gathers the outputs in input order.
public protocol DeviceJob: Sendable {
    associatedtype Input: Sendable
    associatedtype Output: Sendable

    /// The program the device must run, a key of the node's ``ProgramLibrary``.
    var program: String { get }
    /// Identifies a driver configuration; nodes keep one driver per key.
    var driverKey: String { get }
    /// Makes the driver for a device that has loaded ``program``.
    func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output>
    /// The size of an input, in the units progress is reported in (bytes for gzip).
    func weight(of input: Input) -> Int

    /// The job's name on the wire; a worker runs it with the handler registered under
    /// this name in its ``JobRegistry``.
    static var kind: String { get }
    /// The job's settings as a worker's handler decodes them.
    var parameters: [UInt8] { get }
    /// An input as a RUN frame's payload (sent without copying where possible).
    func encode(_ input: Input) -> ArraySlice<UInt8>
    /// An output from a RESULT frame's payload.
    func decodeOutput(_ payload: ArraySlice<UInt8>) throws -> Output

    /// The most inputs to keep in flight on one remote device, when the job's driver takes
    /// fewer at once than the worker announces for the device (its WELCOME capacity counts
    /// the device's compute units, whatever the program); `nil` to use the announced one.
    var remoteInFlightLimit: Int? { get }
}

extension DeviceJob {
    public var remoteInFlightLimit: Int? { nil }
}

/// Host code that runs a job's inputs on one device.
public protocol JobDriver<Input, Output>: Sendable {
    associatedtype Input: Sendable
    associatedtype Output: Sendable

    /// How many inputs the driver works on at once; the cluster keeps at most this many
    /// in flight on the node.
    var capacity: Int { get }
    /// Runs one input.
    func run(_ input: Input) async throws -> Output
}
