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

/// A driver that takes an input's bytes straight into its device buffer when they are
/// read, instead of from memory of their own: a chunk of a file is read with `pread` into
/// the buffer (into card memory itself on a simulated device, as a peer-to-peer transfer
/// would), saving a copy and an allocation per input.
public protocol DeferredInputDriver<Output>: JobDriver where Input == ArraySlice<UInt8> {
    /// Runs one input whose bytes `input` reads into the driver's buffer.
    func run(deferred input: DeferredBytes) async throws -> Output
}
