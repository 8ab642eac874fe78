import FPGADevice

extension Xclbin {
    /// The Vitis `gzip_hbm` demo's program as a U50 card loads it: `xilGzipCompBlock` with
    /// `computeUnits` compute units, each with all its pointer arguments in its own
    /// 256 MiB HBM pseudo-channel.
    public static func gzipCompression(computeUnits: Int = 3) -> Xclbin {
        precondition((1...32).contains(computeUnits), "a U50 has 32 HBM pseudo-channels")
        let banks = (0..<32).map { MemoryBank(tag: "HBM[\($0)]", size: 256 << 20) }
        let arguments = GzipCompBlockKernel.argumentList
        let pointerArguments = arguments.indices.filter { arguments[$0].kind == .global }
        let units = (0..<computeUnits).map { index in
            ComputeUnitDescriptor(
                name: "\(GzipCompBlockKernel.kernelName)_\(index + 1)",
                baseAddress: 0x1000_0000 + UInt64(index) * 0x1_0000,
                connections: Dictionary(uniqueKeysWithValues: pointerArguments.map { ($0, index) }))
        }
        return Xclbin(
            name: "gzip",
            uuid: XclbinUUID(stableName: "fpgacluster.gzip.\(computeUnits)"),
            memoryBanks: banks,
            kernels: [KernelDescriptor(name: GzipCompBlockKernel.kernelName, arguments: arguments, computeUnits: units)]
        )
    }
}
