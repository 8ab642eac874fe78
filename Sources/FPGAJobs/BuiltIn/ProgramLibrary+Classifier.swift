import FPGADevice
import FPGADrivers
import FPGAKernels

extension ProgramLibrary {
    /// The simulated FINN classifier program for `model`, named `CNVModel.programName`.
    ///
    /// It is `Xclbin.finnClassifier(name:)` with the dataflow kernels renamed after the
    /// model (`StreamingDataflowPartition_0_<identity>`, ...), so that only a device made
    /// for that model (`[any Device].simulated(count:model:timing:clock:)`) can load it: a device
    /// with another model's weights refuses it (`DeviceError.kernelNotImplemented`)
    /// instead of classifying with the wrong weights. The compute units keep FINN's names,
    /// `idma0` and `odma0`, which is how `FINNDriver` finds them.
    public static func classifierXclbin(for model: CNVModel) -> Xclbin {
        let identity = model.identity  // a SHA-256 of the model file: once
        var xclbin = Xclbin.finnClassifier(name: CNVModel.classifierProgramPrefix + identity)
        let suffix = "_" + identity
        for index in xclbin.kernels.indices { xclbin.kernels[index].name += suffix }
        return xclbin
    }

    /// The software kernels a simulated device needs to run ``classifierXclbin(for:)``:
    /// a `FINNDataflow` of its own (its FIFO is the device's stream) over `engine`.
    public static func classifierKernels(engine: CNVEngine) -> [any SoftwareKernel] {
        let suffix = "_" + engine.model.identity
        return FINNDataflow(network: engine).kernels.map { RenamedKernel(base: $0, name: $0.name + suffix) }
    }

    /// This library plus the classifier program of `model`.
    public func addingClassifier(for model: CNVModel) -> ProgramLibrary {
        adding(Self.classifierXclbin(for: model), capacity: FINNDriver.batchesAtOnce)
    }

    /// The built-in programs plus the classifier program of `model`: what a node of a
    /// device from `[any Device].simulated(count:model:timing:clock:)` can load.
    public static func builtIn(classifying model: CNVModel) -> ProgramLibrary {
        builtIn.addingClassifier(for: model)
    }

    /// The names of the library's classifier programs (those named `cnv-<identity>`).
    public var classifierPrograms: [String] {
        programs.keys.filter { CNVModel.identity(ofProgram: $0) != nil }.sorted()
    }

}

extension Array where Element == any Device {
    /// `count` simulated devices named `sim0`, `sim1`, ..., each running the built-in
    /// software kernels and the CNV-W1A1 dataflow with `model`'s weights bound, as a card
    /// flashed with that model's bitstream. Pair them with
    /// ``ProgramLibrary/builtIn(classifying:)``, or use FPGACluster's
    /// `Cluster(simulated:model:timing:configuration:)`.
    ///
    /// The devices share one `CNVEngine` (it is immutable); each has its own dataflow.
    public static func simulated(
        count: Int, model: CNVModel, timing: TimingModel? = nil, clock: any Clock<Duration> = ContinuousClock()
    ) throws -> [any Device] {
        // Repacking the model takes milliseconds: not for a cluster of remote workers only.
        guard count > 0 else { return [] }
        let engine = try CNVEngine(model: model)
        return (0..<count).map {
            SimulatedDevice(
                name: "sim\($0)",
                kernels: ProgramLibrary.builtInKernels + ProgramLibrary.classifierKernels(engine: engine),
                timing: timing, clock: clock)
        }
    }
}

/// A software kernel under another name (the classifier's dataflow kernels, named after
/// their model).
struct RenamedKernel: SoftwareKernel {
    let base: any SoftwareKernel
    let name: String
    var arguments: [ArgumentDescriptor] { base.arguments }
    func workUnits(of invocation: KernelInvocation) -> Int { base.workUnits(of: invocation) }
    func execute(_ invocation: KernelInvocation) throws { try base.execute(invocation) }
}
