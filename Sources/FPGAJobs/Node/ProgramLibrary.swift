import FPGADevice
import FPGADrivers
import FPGAKernels

/// The programs (xclbins) a node can load, by name, and how many inputs a driver of each
/// takes at once (its capacity, which a worker process announces in its WELCOME).
public struct ProgramLibrary: Sendable {
    /// The programs, by name.
    public var programs: [String: Xclbin]
    /// The capacities stated for programs; see ``capacity(of:)``.
    public var capacities: [String: Int]

    /// A library of `programs`, with the capacities given (see ``capacity(of:)`` for
    /// programs without one).
    public init(_ programs: [String: Xclbin], capacities: [String: Int] = [:]) {
        self.programs = programs
        self.capacities = capacities
    }

    /// The library plus `xclbin` under `name` (its own name by default), whose driver takes
    /// `capacity` inputs at once (see ``capacity(of:)`` when nil).
    public func adding(_ xclbin: Xclbin, named name: String? = nil, capacity: Int? = nil) -> ProgramLibrary {
        var library = self
        let name = name ?? xclbin.name
        library.programs[name] = xclbin
        library.capacities[name] = capacity
        return library
    }

    /// How many inputs of a job on `program` a node works on at once: the capacity stated
    /// for it, else that of the built-in driver for a built-in program (`gzip`: two chunks
    /// per compute unit; a classifier: one batch), else one per compute unit of its widest
    /// kernel. Nil when the library has no such program.
    public func capacity(of program: String) -> Int? {
        guard let xclbin = programs[program] else { return nil }
        if let stated = capacities[program] { return max(1, stated) }
        if let builtIn = Self.builtInCapacity(of: program, xclbin) { return builtIn }
        return max(1, xclbin.kernels.map(\.computeUnits.count).max() ?? 1)
    }

    /// The capacity of the built-in driver for a built-in program, or nil for another.
    private static func builtInCapacity(of program: String, _ xclbin: Xclbin) -> Int? {
        if program == GzipCompressionJob.kind { return GzipDriver.capacity(of: xclbin) }
        if program == "cnv" || CNVModel.identity(ofProgram: program) != nil { return FINNDriver.batchesAtOnce }
        return nil
    }

    /// The programs built into the simulated device: the Vitis gzip program with three
    /// compute units.
    public static let builtIn = ProgramLibrary(["gzip": .gzipCompression(computeUnits: 3)])

    /// The built-in programs for simulated devices that stand in for cards on the host's
    /// own cores, one device per core (`fpga-compress`'s embedded cluster): the gzip program
    /// with one compute unit, so each core compresses one chunk at a time.
    ///
    /// With ``builtIn``'s three, each device ran three compute-unit threads that took turns
    /// on its core: compressing 1 GiB on two devices and two cores took 2.5 % longer and
    /// 2 % more CPU. A simulated device with a `TimingModel` stands for a card and loads
    /// the card's program, ``builtIn``, whose three units give the card's speed.
    public static let cpuFallback = ProgramLibrary(["gzip": .gzipCompression(computeUnits: 1)])

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
