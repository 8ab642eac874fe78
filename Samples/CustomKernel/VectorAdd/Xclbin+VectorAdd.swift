import FPGADevice

extension Xclbin {
    /// The compute unit counts ``vectorAdd(computeUnits:)`` accepts: one per DDR bank.
    public static let vectorAddComputeUnits: ClosedRange<Int> = 1...4

    /// The Vitis `vadd` example's program as a card with four 4 GiB DDR banks (`DDR[0]` to
    /// `DDR[3]`, an Alveo U200 or U250) loads it: `krnl_vadd` with `computeUnits` compute
    /// units `krnl_vadd_1`, `krnl_vadd_2`, ..., compute unit *n* with its `in1`, `in2` and
    /// `out` in bank `DDR[n-1]`.
    ///
    /// The UUID is derived from the name and the compute unit count, so the same call
    /// gives the same xclbin in every process. Throws
    /// ``VectorAddError/invalidComputeUnitCount(_:valid:)`` unless `computeUnits` is in
    /// ``vectorAddComputeUnits``.
    public static func vectorAdd(computeUnits: Int = 2) throws(VectorAddError) -> Xclbin {
        guard vectorAddComputeUnits.contains(computeUnits) else {
            throw .invalidComputeUnitCount(computeUnits, valid: vectorAddComputeUnits)
        }
        let banks = vectorAddComputeUnits.map { MemoryBank(tag: "DDR[\($0 - 1)]", size: 4 << 30) }
        let arguments = VectorAddKernel.argumentList
        let pointerArguments = arguments.indices.filter { arguments[$0].kind == .global }
        let units = (0..<computeUnits).map { index in
            ComputeUnitDescriptor(
                name: "\(VectorAddKernel.kernelName)_\(index + 1)",
                baseAddress: 0x0180_0000 + UInt64(index) * 0x1_0000,
                connections: Dictionary(uniqueKeysWithValues: pointerArguments.map { ($0, index) }))
        }
        return Xclbin(
            name: "vadd",
            uuid: XclbinUUID(stableName: "fpgacluster.vadd.\(computeUnits)"),
            memoryBanks: banks,
            kernels: [KernelDescriptor(name: VectorAddKernel.kernelName, arguments: arguments, computeUnits: units)]
        )
    }
}
