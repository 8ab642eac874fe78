#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of an xclbin file, already checked by ``AXLF/init(bytes:)``.
public struct XclbinImage: Sendable, Hashable {
    /// The whole file.
    public let bytes: [UInt8]
    /// Where it was read from, if from a file.
    public let path: String?

    public init(bytes: [UInt8], path: String? = nil) {
        self.bytes = bytes
        self.path = path
    }

    /// Hashes the size and path only: images are large, and equal ones are rare outside
    /// tests (equality still compares every byte).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.count)
        hasher.combine(path)
    }
}

extension Xclbin {
    /// The description of an xclbin file's bytes: memory banks from `MEM_TOPOLOGY`,
    /// kernels and their arguments from the metadata XML (stream arguments, which the
    /// host never sets, left out), compute units from `IP_LAYOUT` (sorted by base
    /// address, as XRT numbers them) and each pointer argument's memory group from
    /// `CONNECTIVITY`. The bytes are kept as ``image``.
    ///
    /// Throws ``DeviceError/invalidXclbin(_:)`` for anything XRT would misread: an empty,
    /// truncated or foreign file, a section outside the file, missing sections, or
    /// indices that point nowhere.
    public init(axlf bytes: [UInt8], name: String, path: String? = nil) throws(DeviceError) {
        let container = try AXLF(bytes: bytes)
        let label = path ?? name
        let banks = container.memories.map { memory in
            MemoryBank(tag: memory.tag, size: memory.used ? memory.size : 0)
        }
        var kernels: [KernelDescriptor] = []
        for kernel in container.kernels {
            let visible = kernel.arguments.filter { $0.addressQualifier != AXLF.Argument.stream }
            let arguments = visible.map { argument in
                argument.addressQualifier == AXLF.Argument.scalar
                    ? ArgumentDescriptor.scalar(argument.name, bytes: max(1, min(8, argument.size)))
                    : ArgumentDescriptor.global(argument.name)
            }
            let prefix = kernel.name + ":"
            let units = container.ips.indices
                .filter { container.ips[$0].type == 1 && container.ips[$0].name.hasPrefix(prefix) }
                .sorted { container.ips[$0].baseAddress < container.ips[$1].baseAddress }
            var descriptors: [ComputeUnitDescriptor] = []
            for ipIndex in units {
                let ip = container.ips[ipIndex]
                var connections: [Int: Int] = [:]
                for connection in container.connections where connection.ipIndex == ipIndex {
                    // CONNECTIVITY uses XRT's argument index; the description counts only
                    // host-visible arguments.
                    guard let position = visible.firstIndex(where: { $0.index == connection.argumentIndex }) else {
                        continue
                    }
                    connections[position] = connection.memoryIndex
                }
                descriptors.append(
                    ComputeUnitDescriptor(
                        name: String(ip.name.dropFirst(prefix.count)), baseAddress: ip.baseAddress,
                        connections: connections))
            }
            kernels.append(KernelDescriptor(name: kernel.name, arguments: arguments, computeUnits: descriptors))
        }
        self.init(
            name: name, uuid: container.uuid, memoryBanks: banks, kernels: kernels,
            image: XclbinImage(bytes: bytes, path: path))
        do {
            try validate()
        } catch {
            throw .invalidXclbin("\(label): \(error.description.dropFirst("invalid xclbin: ".count))")
        }
    }

    /// Reads and describes the xclbin file at `path` (see ``init(axlf:name:path:)``).
    public static func load(file path: String, name: String) throws(DeviceError) -> Xclbin {
        let bytes = try readFile(path)
        do {
            return try Xclbin(axlf: bytes, name: name, path: path)
        } catch {
            guard case .invalidXclbin(let reason) = error, !reason.hasPrefix(path) else { throw error }
            throw .invalidXclbin("\(path): \(reason)")
        }
    }

    /// The whole file, or an error naming the path and the system's reason.
    private static func readFile(_ path: String) throws(DeviceError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .invalidXclbin("\(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .invalidXclbin("\(path): \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .invalidXclbin("\(path): not a regular file") }
        let size = Int(status.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + done, size - done) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw .invalidXclbin(
                    "\(path): \(count < 0 ? String(cString: strerror(errno)) : "file shrank while read")")
            }
            done += count
        }
        return bytes
    }
}
