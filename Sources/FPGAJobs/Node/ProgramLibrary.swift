import FPGADevice
import FPGAKernels

/// The programs (xclbins) a node can load, by name: `gzip` for compression.
public struct ProgramLibrary: Sendable {
    public var programs: [String: Xclbin]

    public init(_ programs: [String: Xclbin]) {
        self.programs = programs
    }

    /// The programs built into the simulated device: the Vitis gzip program with three
    /// compute units.
    public static let builtIn = ProgramLibrary(["gzip": .gzipCompression(computeUnits: 3)])

    /// The software kernels a simulated device needs to run ``builtIn``.
    public static var builtInKernels: [any SoftwareKernel] { [GzipCompBlockKernel()] }
}

extension Array where Element == any Device {
    /// `count` simulated devices named `sim0`, `sim1`, ..., each running the built-in
    /// software kernels, optionally slowed to a card's speed by `timing`, measured on `clock`
    /// (a test passes a clock it advances by hand).
    public static func simulated(
        count: Int, timing: TimingModel? = nil, clock: any Clock<Duration> = ContinuousClock()
    ) -> [any Device] {
        (0..<count).map {
            SimulatedDevice(name: "sim\($0)", kernels: ProgramLibrary.builtInKernels, timing: timing, clock: clock)
        }
    }
}
