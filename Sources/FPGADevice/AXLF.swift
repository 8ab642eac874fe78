/// An xclbin file's container (AXLF), read the way XRT 2.13 reads it, with every length
/// and index checked against the file first.
///
/// The layout is that of XRT's `xclbin.h`: the magic `xclbin2\0` at 0, the `axlf_header`
/// at 304 (file length, version, platform, UUID, section count), then 40-byte section
/// headers from 456 (kind, 16-byte name, 4 padding bytes, offset, size). The sections
/// this type decodes are `MEM_TOPOLOGY`, `IP_LAYOUT`, `CONNECTIVITY` and
/// `EMBEDDED_METADATA` (the kernel XML). ``Xclbin/init(axlf:name:)`` turns them into the
/// device model's description; a device driven through XRT uses ``Kernel/argumentIndices``
/// to address arguments the way XRT numbers them.
public struct AXLF: Sendable, Hashable {
    /// Section kinds (`axlf_section_kind`) this project reads or writes.
    public enum SectionKind: UInt32, Sendable, Hashable, CaseIterable {
        case bitstream = 0
        case embeddedMetadata = 2
        case memoryTopology = 6
        case connectivity = 7
        case ipLayout = 8
        /// `ASK_GROUP_TOPOLOGY`: the memory banks followed by bank groups; XRT numbers
        /// memory groups by it when present.
        case groupTopology = 26
        /// `ASK_GROUP_CONNECTIVITY`: `CONNECTIVITY` in terms of the group topology.
        case groupConnectivity = 27
    }

    /// One entry of the section table.
    public struct Section: Sendable, Hashable {
        public var kind: UInt32
        public var name: String
        public var offset: Int
        public var size: Int
    }

    /// One `MEM_TOPOLOGY` (or `ASK_GROUP_TOPOLOGY`) entry; its index is the memory group id.
    public struct MemoryData: Sendable, Hashable {
        public var type: UInt8
        public var used: Bool
        /// The size in bytes (the file stores KiB).
        public var size: Int
        public var baseAddress: UInt64
        public var tag: String
    }

    /// One `IP_LAYOUT` entry.
    public struct IPData: Sendable, Hashable {
        /// `IP_TYPE`: 1 is a kernel compute unit.
        public var type: UInt32
        public var properties: UInt32
        public var baseAddress: UInt64
        /// `kernel:instance` for compute units.
        public var name: String

        /// The control protocol (`ap_ctrl_hs` 0, `ap_ctrl_chain` 1, `ap_ctrl_none` 2).
        public var controlProtocol: UInt32 { (properties & 0xFF00) >> 8 }
    }

    /// One `CONNECTIVITY` entry: argument `argumentIndex` of the compute unit at
    /// `ipIndex` uses memory group `memoryIndex`.
    public struct Connection: Sendable, Hashable {
        public var argumentIndex: Int
        public var ipIndex: Int
        public var memoryIndex: Int
    }

    /// A kernel of the metadata XML.
    public struct Kernel: Sendable, Hashable {
        public var name: String
        /// Every argument, in XRT's index order, streams included.
        public var arguments: [Argument]
        /// The instance names the metadata lists.
        public var instances: [String]

        /// XRT's index of each host-visible (non-stream) argument, in order: the index
        /// to pass to `xrt::run::set_arg` for the device model's argument `i`.
        public var argumentIndices: [Int] {
            arguments.filter { $0.addressQualifier != Argument.stream }.map(\.index)
        }
    }

    /// A kernel argument of the metadata XML.
    public struct Argument: Sendable, Hashable {
        public var name: String
        public var index: Int
        /// 0 scalar, 1 global pointer, 2 constant pointer, 4 stream.
        public var addressQualifier: Int
        public var offset: Int
        public var size: Int

        public static let scalar = 0
        public static let global = 1
        public static let constant = 2
        public static let stream = 4
    }

    /// The xclbin's UUID (`axlf_header.uuid`).
    public var uuid: XclbinUUID
    /// The platform (shell) it was built for, such as `xilinx_u50_gen3x16_xdma_201920_3`.
    public var platform: String
    public var sections: [Section]
    public var memories: [MemoryData]
    public var ips: [IPData]
    public var connections: [Connection]
    public var kernels: [Kernel]

    /// Fixed offsets of the container.
    enum Layout {
        static let magic: [UInt8] = Array("xclbin2".utf8) + [0]
        static let headerOffset = 304
        static let lengthOffset = 304
        static let platformOffset = 352
        static let platformLength = 64
        static let uuidOffset = 416
        static let sectionCountOffset = 448
        static let sectionTableOffset = 456
        static let sectionHeaderSize = 40
        /// The smallest file: header plus one section header.
        static let minimumSize = 496
        static let memoryDataSize = 40
        static let ipDataSize = 80
        static let connectionSize = 12
    }

    /// Reads and checks a container. Every problem is a ``DeviceError/invalidXclbin(_:)``
    /// naming what is wrong.
    public init(bytes: [UInt8]) throws(DeviceError) {
        let reader = AXLFReader(bytes: bytes)
        if bytes.isEmpty { throw .invalidXclbin("the file is empty") }
        guard bytes.count >= Layout.minimumSize else {
            throw .invalidXclbin("\(bytes.count) bytes is shorter than the \(Layout.minimumSize)-byte xclbin header")
        }
        guard Array(bytes[0..<8]) == Layout.magic else {
            throw .invalidXclbin("no xclbin2 magic at the start (not an xclbin, or an old xclbin1 file)")
        }
        let length = try reader.u64(at: Layout.lengthOffset)
        guard length == UInt64(bytes.count) else {
            throw .invalidXclbin("the header says \(length) bytes but the file has \(bytes.count) (truncated?)")
        }
        let count = Int(try reader.u32(at: Layout.sectionCountOffset))
        guard count > 0 else { throw .invalidXclbin("no sections") }
        guard count <= (bytes.count - Layout.sectionTableOffset) / Layout.sectionHeaderSize else {
            throw .invalidXclbin("the table of \(count) sections runs past the end of the file")
        }
        uuid = XclbinUUID(bytes: Array(bytes[Layout.uuidOffset..<(Layout.uuidOffset + 16)]))
        platform = reader.string(at: Layout.platformOffset, length: Layout.platformLength)
        var sections: [Section] = []
        for index in 0..<count {
            let base = Layout.sectionTableOffset + index * Layout.sectionHeaderSize
            let offset = try reader.u64(at: base + 24)
            let size = try reader.u64(at: base + 32)
            guard offset <= UInt64(bytes.count), size <= UInt64(bytes.count) - offset else {
                throw .invalidXclbin("section \(index) (offset \(offset), \(size) bytes) lies outside the file")
            }
            sections.append(
                Section(
                    kind: try reader.u32(at: base), name: reader.string(at: base + 4, length: 16), offset: Int(offset),
                    size: Int(size)))
        }
        self.sections = sections
        func optional(_ kind: SectionKind) throws(DeviceError) -> Section? {
            let matching = sections.filter { $0.kind == kind.rawValue }
            guard matching.count <= 1 else { throw .invalidXclbin("\(matching.count) \(kind.xrtName) sections") }
            return matching.first
        }
        func only(_ kind: SectionKind) throws(DeviceError) -> Section {
            guard let section = try optional(kind) else { throw .invalidXclbin("no \(kind.xrtName) section") }
            return section
        }
        // As XRT does, number memory groups by the group sections when the file has them
        // (Vitis writes them for arguments connected to several banks, such as HBM[0:1]).
        let topology = try only(.memoryTopology)
        memories = try reader.memoryTopology(try optional(.groupTopology) ?? topology)
        ips = try reader.ipLayout(only(.ipLayout))
        let connectivity = try only(.connectivity)
        connections = try reader.connectivity(try optional(.groupConnectivity) ?? connectivity)
        let metadata = try only(.embeddedMetadata)
        kernels = try KernelMetadata.parse(bytes[metadata.offset..<(metadata.offset + metadata.size)])
        for (index, connection) in connections.enumerated() {
            guard ips.indices.contains(connection.ipIndex), memories.indices.contains(connection.memoryIndex),
                connection.argumentIndex >= 0
            else {
                throw .invalidXclbin(
                    "connection \(index) names IP \(connection.ipIndex) and memory \(connection.memoryIndex), which do not exist"
                )
            }
        }
    }
}

extension AXLF.SectionKind {
    /// XRT's name for the kind.
    public var xrtName: String {
        switch self {
        case .bitstream: "BITSTREAM"
        case .embeddedMetadata: "EMBEDDED_METADATA"
        case .memoryTopology: "MEM_TOPOLOGY"
        case .connectivity: "CONNECTIVITY"
        case .ipLayout: "IP_LAYOUT"
        case .groupTopology: "GROUP_TOPOLOGY"
        case .groupConnectivity: "GROUP_CONNECTIVITY"
        }
    }
}

/// Little-endian reads with bounds checks.
struct AXLFReader {
    let bytes: [UInt8]

    func u64(at offset: Int) throws(DeviceError) -> UInt64 {
        guard offset >= 0, offset + 8 <= bytes.count else { throw .invalidXclbin("read past the end at \(offset)") }
        var value: UInt64 = 0
        for index in (0..<8).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }

    func u32(at offset: Int) throws(DeviceError) -> UInt32 {
        guard offset >= 0, offset + 4 <= bytes.count else { throw .invalidXclbin("read past the end at \(offset)") }
        var value: UInt32 = 0
        for index in (0..<4).reversed() { value = value << 8 | UInt32(bytes[offset + index]) }
        return value
    }

    func i32(at offset: Int) throws(DeviceError) -> Int { Int(Int32(bitPattern: try u32(at: offset))) }

    /// A NUL-terminated string in a fixed-size field (all of it if no NUL).
    func string(at offset: Int, length: Int) -> String {
        let field = bytes[offset..<min(bytes.count, offset + length)]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[field.startIndex..<end], as: UTF8.self)
    }

    /// The entry count at the start of a section, checked against the section's size.
    func count(_ section: AXLF.Section, header: Int, entrySize: Int, _ what: String) throws(DeviceError) -> Int {
        guard section.size >= 4 else { throw .invalidXclbin("\(what) section of \(section.size) bytes has no count") }
        let count = try i32(at: section.offset)
        guard count >= 0, header + count * entrySize <= section.size else {
            throw .invalidXclbin("\(what) declares \(count) entries, more than its \(section.size) bytes hold")
        }
        return count
    }

    /// The fixed-size entries of a section that starts with their count (`header` bytes
    /// before the first), each read by `entry` from its offset in the file.
    func entries<Entry>(
        _ section: AXLF.Section, header: Int, entrySize: Int, _ what: String,
        _ entry: (_ base: Int, _ index: Int) throws(DeviceError) -> Entry
    ) throws(DeviceError) -> [Entry] {
        let count = try count(section, header: header, entrySize: entrySize, what)
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for index in 0..<count { entries.append(try entry(section.offset + header + index * entrySize, index)) }
        return entries
    }

    func memoryTopology(_ section: AXLF.Section) throws(DeviceError) -> [AXLF.MemoryData] {
        try entries(section, header: 8, entrySize: AXLF.Layout.memoryDataSize, "MEM_TOPOLOGY") {
            (base, index) throws(DeviceError) in
            let kib = try u64(at: base + 8)
            guard kib <= UInt64(Int.max / 1024) else { throw .invalidXclbin("memory \(index) has an absurd size") }
            return AXLF.MemoryData(
                type: bytes[base], used: bytes[base + 1] != 0, size: Int(kib) * 1024,
                baseAddress: try u64(at: base + 16), tag: string(at: base + 24, length: 16))
        }
    }

    func ipLayout(_ section: AXLF.Section) throws(DeviceError) -> [AXLF.IPData] {
        try entries(section, header: 8, entrySize: AXLF.Layout.ipDataSize, "IP_LAYOUT") {
            (base, _) throws(DeviceError) in
            AXLF.IPData(
                type: try u32(at: base), properties: try u32(at: base + 4), baseAddress: try u64(at: base + 8),
                name: string(at: base + 16, length: 64))
        }
    }

    func connectivity(_ section: AXLF.Section) throws(DeviceError) -> [AXLF.Connection] {
        try entries(section, header: 4, entrySize: AXLF.Layout.connectionSize, "CONNECTIVITY") {
            (base, _) throws(DeviceError) in
            AXLF.Connection(
                argumentIndex: try i32(at: base), ipIndex: try i32(at: base + 4), memoryIndex: try i32(at: base + 8))
        }
    }
}
