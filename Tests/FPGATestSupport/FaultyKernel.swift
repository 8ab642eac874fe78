import FPGACluster
import FPGADevice
import FPGAKernels
import Synchronization

/// `xilGzipCompBlock` that fails its `failingRun`-th run (counting from 1) and every run
/// after it, as a card that breaks half-way through a job.
public final class FaultyGzipKernel: SoftwareKernel {
    private let inner = GzipCompBlockKernel()
    private let runs = Atomic<Int>(0)
    private let failingRun: Int

    public init(failingRun: Int) { self.failingRun = failingRun }

    public var name: String { inner.name }
    public var arguments: [ArgumentDescriptor] { inner.arguments }
    public func workUnits(of invocation: KernelInvocation) -> Int { inner.workUnits(of: invocation) }

    public func execute(_ invocation: KernelInvocation) throws {
        let run = runs.add(1, ordering: .relaxed).newValue
        if run >= failingRun { throw KernelFault("injected failure on run \(run)") }
        try inner.execute(invocation)
    }
}

extension SimulatedDevice {
    /// A simulated device whose gzip kernel fails from its `failingRun`-th run on.
    public static func faulty(name: String, failingRun: Int) -> SimulatedDevice {
        SimulatedDevice(name: name, kernels: [FaultyGzipKernel(failingRun: failingRun)])
    }
}

/// `xilGzipCompBlock` that fails every run while it is switched to failing, and runs as the
/// real kernel otherwise: a card that breaks, then is fixed.
public final class SwitchableGzipKernel: SoftwareKernel {
    private let inner = GzipCompBlockKernel()
    private let failing = Atomic<Bool>(false)

    public init() {}

    /// Makes the runs from now on fail (`true`) or succeed (`false`).
    public func setFailing(_ value: Bool) { failing.store(value, ordering: .sequentiallyConsistent) }

    public var name: String { inner.name }
    public var arguments: [ArgumentDescriptor] { inner.arguments }
    public func workUnits(of invocation: KernelInvocation) -> Int { inner.workUnits(of: invocation) }

    public func execute(_ invocation: KernelInvocation) throws {
        if failing.load(ordering: .sequentiallyConsistent) { throw KernelFault("injected failure") }
        try inner.execute(invocation)
    }
}
