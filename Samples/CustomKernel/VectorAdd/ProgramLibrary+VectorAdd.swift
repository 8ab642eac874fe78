import FPGACluster
import FPGADevice

extension ProgramLibrary {
    /// A library of one program, `vadd` (``Xclbin/vectorAdd(computeUnits:)``), whose
    /// capacity is that of its ``VectorAddDriver``: one addition per compute unit.
    ///
    /// Throws ``VectorAddError/invalidComputeUnitCount(_:valid:)`` unless `computeUnits` is
    /// in ``Xclbin/vectorAddComputeUnits``.
    public static func vectorAdd(computeUnits: Int = 2) throws(VectorAddError) -> ProgramLibrary {
        ProgramLibrary([:]).adding(try .vectorAdd(computeUnits: computeUnits), capacity: computeUnits)
    }
}

extension Array where Element == any Device {
    /// `count` simulated devices named `sim0`, `sim1`, ..., each running `krnl_vadd` in
    /// software (``VectorAddKernel``), optionally slowed to a card's speed by `timing`.
    public static func simulatedVectorAdd(count: Int, timing: TimingModel? = nil) -> [any Device] {
        (0..<count).map { SimulatedDevice(name: "sim\($0)", kernels: [VectorAddKernel()], timing: timing) }
    }
}
