/// Host code that runs a job's inputs on one device: it allocates the device's buffers
/// once, then for each input writes it, syncs it, starts the kernel, waits, and reads the
/// output back (XRT's bo, sync, run and wait).
public protocol JobDriver<Input, Output>: Sendable {
    associatedtype Input: Sendable
    associatedtype Output: Sendable

    /// How many inputs the driver works on at once; the cluster keeps at most this many
    /// in flight on a node in this process.
    var capacity: Int { get }
    /// Runs one input.
    func run(_ input: Input) async throws -> Output
}
