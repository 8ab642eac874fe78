import FPGACluster
import FPGADevice
import FPGAKernels
import FPGATestSync
import Synchronization

/// `xilGzipCompBlock` whose runs a test can hold and count: each run reports that it
/// started, waits at its gate (if any), compresses, and reports that it finished. Tests use
/// it to make one device busy for exactly as long as they want, instead of a timing model
/// that is slow enough only on an idle machine.
public final class GatedGzipKernel: SoftwareKernel {
    private let inner = GzipCompBlockKernel()
    /// Where each run waits before it compresses; nil lets runs through.
    private let gate: (@Sendable (KernelInvocation) -> ThreadGate?)?
    /// Runs that reached the kernel (counted before the gate).
    public let started = ProgressCounter()
    /// Runs that compressed their input.
    public let finished = ProgressCounter()
    private let counts = CountPair()

    /// A kernel whose runs wait at whatever gate `gate` returns for them.
    public init(gate: (@Sendable (KernelInvocation) -> ThreadGate?)? = nil) { self.gate = gate }

    /// A kernel whose runs all wait at `gate`.
    public convenience init(holdingAt gate: ThreadGate) { self.init(gate: { _ in gate }) }

    public var name: String { inner.name }
    public var arguments: [ArgumentDescriptor] { inner.arguments }
    public func workUnits(of invocation: KernelInvocation) -> Int { inner.workUnits(of: invocation) }

    public func execute(_ invocation: KernelInvocation) throws {
        started.advance(to: counts.start())
        if let gate = gate?(invocation), !gate.wait() {
            throw KernelFault("the test never opened the gate of \(invocation.computeUnit)")
        }
        try inner.execute(invocation)
        finished.advance(to: counts.finish())
    }
}

/// Two counters bumped from compute-unit threads.
private final class CountPair: Sendable {
    private let state = Mutex<(started: Int, finished: Int)>((0, 0))
    func start() -> Int {
        state.withLock {
            $0.started += 1
            return $0.started
        }
    }
    func finish() -> Int {
        state.withLock {
            $0.finished += 1
            return $0.finished
        }
    }
}
