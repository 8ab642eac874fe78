import FPGADevice
import FPGAJobs
import FPGAKernels

extension Cluster {
    /// A cluster of `count` simulated devices that compress and classify with `model`
    /// (see `[any Device].simulated(count:model:timing:clock:)`).
    public init(
        simulated count: Int, model: CNVModel, timing: TimingModel? = nil,
        configuration: Configuration = Configuration()
    ) throws {
        try self.init(
            devices: .simulated(count: count, model: model, timing: timing), programs: .builtIn(classifying: model),
            configuration: configuration)
    }
}
