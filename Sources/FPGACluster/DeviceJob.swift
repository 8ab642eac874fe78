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
