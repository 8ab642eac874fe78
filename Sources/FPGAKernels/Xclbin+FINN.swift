import FPGADevice

extension Xclbin {
    /// A FINN accelerator as a U50 card loads it (CNV-W1A1 for CIFAR-10 by default): the
    /// input DMA kernel (compute unit `idma0`) and the output DMA kernel (`odma0`), each
    /// taking `(addr, numReps)`, both on HBM[0] as FINN's Vitis link step connects them
    /// on a U50. The dataflow partitions between the DMAs stream freely and are never
    /// opened by the host, so the simulated program leaves them out.
    ///
    /// A ``SimulatedDevice`` runs it with the kernels of a ``FINNDataflow``.
    public static func finnClassifier(name: String = "cnv") -> Xclbin {
        let banks = (0..<32).map { MemoryBank(tag: "HBM[\($0)]", size: 256 << 20) }
        let address = FINNDataflow.Argument.address
        return Xclbin(
            name: name,
            uuid: XclbinUUID(stableName: "fpgacluster.finn.\(name)"),
            memoryBanks: banks,
            kernels: [
                KernelDescriptor(
                    name: FINNDataflow.inputKernelName, arguments: FINNDataflow.argumentList,
                    computeUnits: [
                        ComputeUnitDescriptor(
                            name: FINNDataflow.inputInstance, baseAddress: 0x1000_0000, connections: [address: 0])
                    ]),
                KernelDescriptor(
                    name: FINNDataflow.outputKernelName, arguments: FINNDataflow.argumentList,
                    computeUnits: [
                        ComputeUnitDescriptor(
                            name: FINNDataflow.outputInstance, baseAddress: 0x1002_0000, connections: [address: 0])
                    ]),
            ])
    }
}
