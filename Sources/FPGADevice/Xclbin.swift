/// What a device program declares: its memory banks, kernels and compute units.
///
/// This mirrors the sections of an xclbin (AXLF) container that XRT reads:
/// `MEM_TOPOLOGY` gives ``memoryBanks``, `EMBEDDED_METADATA` gives each kernel's
/// arguments, `IP_LAYOUT` its compute units and `CONNECTIVITY` which memory bank each
/// pointer argument of each compute unit uses. A ``SimulatedDevice`` loads the same
/// description and binds a software implementation to every kernel it names.
public struct Xclbin: Sendable, Hashable {
    /// A short name, such as `gzip` or `cnv-w1a1`.
    public var name: String
    /// The xclbin's UUID.
    public var uuid: XclbinUUID
    /// The memory banks, indexed by memory group id.
    public var memoryBanks: [MemoryBank]
    /// The kernels, each with its compute units.
    public var kernels: [KernelDescriptor]
    /// The xclbin file this description was read from, if any: a real card loads these
    /// bytes, a ``SimulatedDevice`` only the description.
    public var image: XclbinImage?

    public init(
        name: String, uuid: XclbinUUID, memoryBanks: [MemoryBank], kernels: [KernelDescriptor],
        image: XclbinImage? = nil
    ) {
        self.name = name
        self.uuid = uuid
        self.memoryBanks = memoryBanks
        self.kernels = kernels
        self.image = image
    }

    /// Checks that every connection names an existing argument and memory bank, and
    /// that every pointer argument of every compute unit is connected.
    public func validate() throws(DeviceError) {
        if kernels.isEmpty { throw .invalidXclbin("\(name): declares no kernels") }
        for kernel in kernels {
            if kernel.computeUnits.isEmpty {
                throw .invalidXclbin("\(name): kernel \(kernel.name) has no compute units")
            }
            for unit in kernel.computeUnits {
                for (index, argument) in kernel.arguments.enumerated() where argument.kind == .global {
                    guard let group = unit.connections[index] else {
                        throw .invalidXclbin(
                            "\(name): \(unit.name) argument \(argument.name) is not connected to memory")
                    }
                    guard memoryBanks.indices.contains(group) else {
                        throw .invalidXclbin(
                            "\(name): \(unit.name) argument \(argument.name) uses memory group \(group), which does not exist"
                        )
                    }
                }
            }
        }
    }
}

/// The 16-byte identity of an xclbin.
public struct XclbinUUID: Sendable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "an xclbin UUID has 16 bytes")
        self.bytes = bytes
    }

    /// A UUID derived from a name, stable across runs (for simulated programs).
    public init(stableName: String) {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        var out: [UInt8] = []
        for round in 0..<2 {
            for byte in stableName.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
            state = (state ^ UInt64(round)) &* 0x100_0000_01b3
            withUnsafeBytes(of: state.littleEndian) { out.append(contentsOf: $0) }
        }
        self.init(bytes: out)
    }

    public var description: String {
        let hex = bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
}

/// One memory bank (`MEM_TOPOLOGY` entry); its index is the memory group id.
public struct MemoryBank: Sendable, Hashable {
    /// The bank's tag, such as `HBM[0]` or `DDR[1]`.
    public var tag: String
    /// Its size in bytes.
    public var size: Int

    public init(tag: String, size: Int) {
        self.tag = tag
        self.size = size
    }
}

/// A kernel as its metadata declares it.
public struct KernelDescriptor: Sendable, Hashable {
    public var name: String
    public var arguments: [ArgumentDescriptor]
    public var computeUnits: [ComputeUnitDescriptor]

    public init(name: String, arguments: [ArgumentDescriptor], computeUnits: [ComputeUnitDescriptor]) {
        self.name = name
        self.arguments = arguments
        self.computeUnits = computeUnits
    }
}

/// One kernel argument: a pointer into device memory (`global`), or a scalar.
public struct ArgumentDescriptor: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A pointer to a buffer object in device memory (address qualifier 1).
        case global
        /// A scalar of `byteSize` bytes (address qualifier 0).
        case scalar(byteSize: Int)
    }

    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    public static func global(_ name: String) -> ArgumentDescriptor { .init(name: name, kind: .global) }
    public static func scalar(_ name: String, bytes: Int) -> ArgumentDescriptor {
        .init(name: name, kind: .scalar(byteSize: bytes))
    }
}

/// One compute unit (`IP_LAYOUT` entry) and the memory group of each of its pointer
/// arguments (`CONNECTIVITY`).
public struct ComputeUnitDescriptor: Sendable, Hashable {
    /// The instance name, such as `xilGzipCompBlock_1`.
    public var name: String
    /// The control-register base address.
    public var baseAddress: UInt64
    /// Memory group id by argument index, for pointer arguments.
    public var connections: [Int: Int]

    public init(name: String, baseAddress: UInt64, connections: [Int: Int]) {
        self.name = name
        self.baseAddress = baseAddress
        self.connections = connections
    }
}
