import FPGADevice
import FPGAExecution

/// The simulated twin of a FINN accelerator's dataflow: the input DMA kernel pushes a
/// batch through the network into a FIFO of classes, the output DMA kernel pulls a batch
/// of classes out, as the bitstream's `idma0` and `odma0` compute units do.
///
/// Each simulated device needs its own dataflow (its FIFO is the device's stream):
/// `SimulatedDevice(name:kernels: FINNDataflow(network:).kernels)`.
///
/// Both kernels take `(addr, numReps)`, FINN's IODMA arguments: a buffer and the number
/// of images. `odma0` blocks on its own compute unit thread until `numReps` classes have
/// come through, or fails after ``outputTimeout`` (a hung accelerator, seen from the host),
/// measured on ``clock``.
public final class FINNDataflow: Sendable {
    /// The kernel of the input DMA in a FINN Vitis build (the first dataflow partition).
    public static let inputKernelName = "StreamingDataflowPartition_0"
    /// The kernel of the output DMA (the last partition, the third in CNV-W1A1 builds).
    public static let outputKernelName = "StreamingDataflowPartition_2"
    /// The compute unit names FINN's link step gives the DMAs.
    public static let inputInstance = "idma0"
    public static let outputInstance = "odma0"
    /// Argument indices of both DMAs.
    public enum Argument {
        public static let address = 0
        public static let repetitions = 1
    }
    static let argumentList: [ArgumentDescriptor] = [.global("addr"), .scalar("numReps", bytes: 4)]

    /// The network the dataflow runs.
    public let network: any FINNNetwork
    /// How long `odma0` waits for classes before failing its run.
    public let outputTimeout: Duration
    /// The clock ``outputTimeout`` is measured on: `ContinuousClock` unless a test passes
    /// one it advances by hand.
    public let clock: any Clock<Duration>
    private let fifo = ClassFIFO()

    public init(
        network: any FINNNetwork, outputTimeout: Duration = .seconds(30), clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.network = network
        self.outputTimeout = outputTimeout
        self.clock = clock
    }

    /// The two software kernels for a ``SimulatedDevice``.
    public var kernels: [any SoftwareKernel] { [InputDMA(dataflow: self), OutputDMA(dataflow: self)] }

    /// The input DMA: classifies `numReps` images from `addr` into the FIFO.
    struct InputDMA: SoftwareKernel {
        let dataflow: FINNDataflow
        var name: String { FINNDataflow.inputKernelName }
        var arguments: [ArgumentDescriptor] { FINNDataflow.argumentList }
        func workUnits(of invocation: KernelInvocation) -> Int { Int(invocation.scalar(Argument.repetitions)) }

        func execute(_ invocation: KernelInvocation) throws {
            let count = Int(invocation.scalar(Argument.repetitions))
            let input = invocation.buffer(Argument.address)
            let bytes = dataflow.network.inputBytesPerImage
            guard count >= 0, count <= input.count / max(1, bytes) else {
                throw KernelFault("numReps \(count) needs \(count * bytes) bytes, the buffer has \(input.count)")
            }
            var classes = [UInt8](repeating: 0, count: count)
            try classes.withUnsafeMutableBytes { out in
                try dataflow.network.classify(
                    images: UnsafeRawBufferPointer(rebasing: input[0..<(count * bytes)]), count: count, into: out)
            }
            dataflow.fifo.push(classes)
        }
    }

    /// The output DMA: writes `numReps` classes from the FIFO to `addr`.
    struct OutputDMA: SoftwareKernel {
        let dataflow: FINNDataflow
        var name: String { FINNDataflow.outputKernelName }
        var arguments: [ArgumentDescriptor] { FINNDataflow.argumentList }
        func workUnits(of invocation: KernelInvocation) -> Int { Int(invocation.scalar(Argument.repetitions)) }

        func execute(_ invocation: KernelInvocation) throws {
            let count = Int(invocation.scalar(Argument.repetitions))
            let output = invocation.buffer(Argument.address)
            guard count <= output.count else {
                throw KernelFault("numReps \(count) exceeds the \(output.count)-byte output buffer")
            }
            let classes = try dataflow.fifo.pop(count, timeout: dataflow.outputTimeout, clock: dataflow.clock)
            UnsafeMutableRawBufferPointer(rebasing: output[0..<count]).copyBytes(from: classes)
        }
    }
}

/// Classes between the two DMAs.
///
/// `@unchecked Sendable`: `classes` is only touched while `lock` is held.
private final class ClassFIFO: @unchecked Sendable {
    private let lock = ConditionLock()
    private var classes: [UInt8] = []

    func push(_ more: [UInt8]) {
        lock.withLock { classes += more }
        lock.broadcast()
    }

    /// Takes `count` classes, waiting for them up to `timeout` on `clock`. Blocks the
    /// calling thread: compute unit threads only.
    func pop(_ count: Int, timeout: Duration, clock: any Clock<Duration>) throws -> [UInt8] {
        let deadline = ClockDeadline(after: timeout, on: clock)
        lock.lock()
        defer { lock.unlock() }
        guard deadline.wait(on: lock, until: { classes.count >= count }) else {
            throw KernelFault("odma0 waited \(timeout) for \(count) classes; the dataflow produced \(classes.count)")
        }
        let taken = Array(classes.prefix(count))
        classes.removeFirst(count)
        return taken
    }
}
