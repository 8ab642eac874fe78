extension Xclbin {
    /// The handle ``Device/openKernel(_:)`` returns for `name`: a kernel name for all its
    /// compute units, or `kernel:{instance}` (XRT's syntax) for one.
    public func kernel(named name: String) throws(DeviceError) -> Kernel {
        var kernelName = name
        var instance: String?
        if let colon = name.firstIndex(of: ":") {
            kernelName = String(name[..<colon])
            let rest = name[name.index(after: colon)...]
            guard rest.hasPrefix("{"), rest.hasSuffix("}"), rest.count > 2 else {
                throw .kernelNotFound(name, available: kernels.map(\.name))
            }
            instance = String(rest.dropFirst().dropLast())
        }
        guard let descriptor = kernels.first(where: { $0.name == kernelName }) else {
            throw .kernelNotFound(kernelName, available: kernels.map(\.name))
        }
        var selected = Array(descriptor.computeUnits.indices)
        if let instance {
            guard let index = descriptor.computeUnits.firstIndex(where: { $0.name == instance }) else {
                throw .computeUnitNotFound(kernel: kernelName, instance: instance)
            }
            selected = [index]
        }
        return Kernel(name: kernelName, descriptor: descriptor, computeUnits: selected, xclbin: uuid)
    }
}
