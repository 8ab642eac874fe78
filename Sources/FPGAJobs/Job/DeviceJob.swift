import FPGADevice

/// What runs on a device: a kind of work the cluster scatters over its nodes, such as
/// gzip compression, classification, or a kernel of your own.
///
/// A job names the program (xclbin) a device must have loaded and makes a ``JobDriver``
/// for a device that has loaded it. A ``LocalNode`` makes one driver per ``driverKey`` the
/// first time it sees the job and reuses it (program loaded once, buffers allocated once);
/// the cluster then feeds the driver inputs, up to its ``JobDriver/capacity`` at once, and
/// gathers the outputs in input order.
///
/// This is all a job needs to run on devices in this process. To run on the devices of
/// worker processes too, it also conforms to ``RemoteJob``, which says how its settings,
/// inputs and outputs cross the wire.
public protocol DeviceJob: Sendable {
    /// One unit of work: what one driver call takes.
    associatedtype Input: Sendable
    /// What one driver call returns.
    associatedtype Output: Sendable

    /// The program the device must run, a name in the node's ``ProgramLibrary``.
    var program: String { get }
    /// Whether the job's driver works on the host alone, touching no kernel (the echo job
    /// that measures the pipeline): a ``LocalNode`` then makes its driver without loading
    /// ``program``, and keeps whatever program it has loaded. False unless a job says so.
    var runsOnHost: Bool { get }
    /// Identifies a driver configuration (its buffer sizes, say); nodes keep one driver
    /// per program and key.
    var driverKey: String { get }
    /// Makes the driver for a device that has loaded ``program``.
    func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output>

    /// How the job crosses the wire, or nil when it runs only in this process. Conform to
    /// ``RemoteJob`` instead of implementing this.
    var wire: JobWire<Input, Output>? { get throws }

    /// The bytes an input holds, for the device's `input_bytes_total` metric; nil when
    /// the job does not count bytes. Jobs whose inputs are bytes count them already.
    func byteCount(ofInput input: Input) -> Int?
    /// The bytes an output holds, for the device's `output_bytes_total` metric; nil when
    /// the job does not count bytes. Jobs whose outputs are bytes count them already.
    func byteCount(ofOutput output: Output) -> Int?
}

extension DeviceJob {
    /// A job that is not a ``RemoteJob`` does not cross the wire.
    public var wire: JobWire<Input, Output>? { nil }

    /// Jobs run kernels on their device unless they say otherwise.
    public var runsOnHost: Bool { false }

    /// Bytes are not counted unless the job says how.
    public func byteCount(ofInput input: Input) -> Int? { nil }
    /// Bytes are not counted unless the job says how.
    public func byteCount(ofOutput output: Output) -> Int? { nil }
}

extension DeviceJob where Input == ArraySlice<UInt8> {
    /// An input of bytes counts its bytes.
    public func byteCount(ofInput input: Input) -> Int? { input.count }
}

extension DeviceJob where Output == ArraySlice<UInt8> {
    /// An output of bytes counts its bytes.
    public func byteCount(ofOutput output: Output) -> Int? { output.count }
}
