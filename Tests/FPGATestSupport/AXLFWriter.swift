import FPGADevice
import FPGAKernels

/// Writes small xclbin (AXLF) files from a device-model description, laid out as XRT
/// 2.13 reads them, for tests: Debian ships no working `xclbinutil`.
///
/// The file holds `MEM_TOPOLOGY`, `IP_LAYOUT`, `CONNECTIVITY` and `EMBEDDED_METADATA`
/// (kernel XML with each argument's id, register offset, size and address qualifier, and
/// each instance), and no bitstream: XRT's noop shim needs none.
public struct AXLFWriter {
    /// The program to write.
    public var xclbin: Xclbin
    /// Stream arguments (address qualifier 4) appended after a kernel's host arguments,
    /// as FINN's DMA kernels declare them.
    public var streams: [String: [String]] = [:]
    /// The control protocol of each kernel's compute units (`ap_ctrl_hs` 0 unless given).
    public var controlProtocols: [String: UInt32] = [:]
    /// The sections to write; leave some out to test a reader's errors.
    public var sections: [AXLF.SectionKind] = [.memoryTopology, .ipLayout, .connectivity, .embeddedMetadata]
    /// The platform name in the header.
    public var platform = "xilinx_u50_gen3x16_xdma_201920_3"

    public init(_ xclbin: Xclbin) {
        self.xclbin = xclbin
    }

    /// The gzip program of the Vitis `gzip_hbm` demo, compute units in `ap_ctrl_chain`.
    public static func gzip(computeUnits: Int = 3) -> AXLFWriter {
        var writer = AXLFWriter(.gzipCompression(computeUnits: computeUnits))
        writer.controlProtocols = ["xilGzipCompBlock": 1]
        return writer
    }

    /// A FINN accelerator's DMA kernels, each with its AXI stream argument.
    public static func finn() -> AXLFWriter {
        var writer = AXLFWriter(.finnClassifier())
        writer.streams = [FINNDataflow.inputKernelName: ["m_axis_0"], FINNDataflow.outputKernelName: ["s_axis_0"]]
        return writer
    }

    /// The file's bytes.
    public func bytes() -> [UInt8] {
        var bodies: [(AXLF.SectionKind, [UInt8])] = []
        for kind in sections {
            switch kind {
            case .memoryTopology: bodies.append((kind, memoryTopology()))
            case .ipLayout: bodies.append((kind, ipLayout()))
            case .connectivity: bodies.append((kind, connectivity()))
            case .embeddedMetadata: bodies.append((kind, Array(metadata().utf8)))
            case .groupTopology: bodies.append((kind, memoryTopology()))
            case .groupConnectivity: bodies.append((kind, connectivity()))
            case .bitstream: bodies.append((kind, []))
            }
        }
        let tableEnd = 456 + 40 * bodies.count
        var file = [UInt8](repeating: 0, count: tableEnd)
        file.replaceSubrange(0..<8, with: Array("xclbin2".utf8) + [0])
        put32(&file, 8, UInt32(bitPattern: -1))  // no signature
        for index in 12..<40 { file[index] = 0xff }  // reserved, as xclbinutil leaves it
        put16(&file, 328, 466)  // version 2.13.466
        file[330] = 2
        file[331] = 13
        putString(&file, 352, platform, length: 64)
        file.replaceSubrange(416..<432, with: xclbin.uuid.bytes)
        put32(&file, 448, UInt32(bodies.count))
        for (index, (kind, body)) in bodies.enumerated() {
            while file.count % 8 != 0 { file.append(0) }
            let header = 456 + 40 * index
            put32(&file, header, kind.rawValue)
            putString(&file, header + 4, kind.xrtName, length: 16)
            // 4 bytes of padding at header + 20 keep the 64-bit fields aligned.
            put64(&file, header + 24, UInt64(file.count))
            put64(&file, header + 32, UInt64(body.count))
            file += body
        }
        put64(&file, 304, UInt64(file.count))
        return file
    }

    // MARK: Sections

    /// Compute units in IP_LAYOUT order (by base address), with their kernel.
    private var units: [(kernel: KernelDescriptor, unit: ComputeUnitDescriptor)] {
        xclbin.kernels.flatMap { kernel in kernel.computeUnits.map { (kernel, $0) } }
            .sorted { $0.unit.baseAddress < $1.unit.baseAddress }
    }

    private func memoryTopology() -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 8)
        put32(&body, 0, UInt32(xclbin.memoryBanks.count))
        for (index, bank) in xclbin.memoryBanks.enumerated() {
            var entry = [UInt8](repeating: 0, count: 40)
            entry[0] = bank.tag.hasPrefix("HBM") ? 6 : 1  // MEM_HBM or MEM_DDR4
            entry[1] = 1
            put64(&entry, 8, UInt64(bank.size / 1024))
            put64(&entry, 16, UInt64(index) << 28)
            putString(&entry, 24, bank.tag, length: 16)
            body += entry
        }
        return body
    }

    private func ipLayout() -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 8)
        put32(&body, 0, UInt32(units.count))
        for (kernel, unit) in units {
            var entry = [UInt8](repeating: 0, count: 80)
            put32(&entry, 0, 1)  // IP_KERNEL
            put32(&entry, 4, (controlProtocols[kernel.name] ?? 0) << 8)
            put64(&entry, 8, unit.baseAddress)
            putString(&entry, 16, "\(kernel.name):\(unit.name)", length: 64)
            body += entry
        }
        return body
    }

    private func connectivity() -> [UInt8] {
        var entries: [[Int32]] = []
        for (ipIndex, (kernel, unit)) in units.enumerated() {
            for argument in kernel.arguments.indices {
                guard let group = unit.connections[argument] else { continue }
                entries.append([Int32(argument), Int32(ipIndex), Int32(group)])
            }
        }
        var body = [UInt8](repeating: 0, count: 4)
        put32(&body, 0, UInt32(entries.count))
        for entry in entries {
            var bytes = [UInt8](repeating: 0, count: 12)
            for (index, value) in entry.enumerated() { put32(&bytes, index * 4, UInt32(bitPattern: value)) }
            body += bytes
        }
        return body
    }

    /// Kernel XML in the shape Vitis writes it.
    public func metadata() -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <project name="\(xclbin.name)">
              <platform vendor="xilinx" boardid="u50" name="\(platform)" featureRomTime="0">
                <version major="2" minor="1"/>
                <device name="fpga0" fpgaDevice="virtexuplusHBM:xcu50:fsvh2104:-2:e" addrWidth="0">
                  <core name="OCL_REGION_0" target="bitstream" type="clc_region" clockFreq="300MHz">

            """
        for kernel in xclbin.kernels {
            let control = (controlProtocols[kernel.name] ?? 0) == 1 ? "ap_ctrl_chain" : "ap_ctrl_hs"
            xml += """
                      <kernel name="\(kernel.name)" language="c" vlnv="xilinx.com:hls:\(kernel.name):1.0" \
                preferredWorkGroupSizeMultiple="0" workGroupSize="1" interrupt="true" hwControlProtocol="\(control)">
                        <port name="M_AXI_GMEM0" mode="master" range="0xFFFFFFFF" dataWidth="512" portType="addressable" base="0x0"/>
                        <port name="S_AXI_CONTROL" mode="slave" range="0x1000" dataWidth="32" portType="addressable" base="0x0"/>

                """
            var offset = 0x10
            for (index, argument) in kernel.arguments.enumerated() {
                switch argument.kind {
                case .global:
                    xml += argumentXML(
                        argument.name, id: index, qualifier: 1, port: "M_AXI_GMEM0", offset: offset, size: 8,
                        type: "void*")
                    offset += 0xC
                case .scalar(let byteSize):
                    xml += argumentXML(
                        argument.name, id: index, qualifier: 0, port: "S_AXI_CONTROL", offset: offset, size: byteSize,
                        type: "unsigned int")
                    offset += 8
                }
            }
            for (position, stream) in (streams[kernel.name] ?? []).enumerated() {
                xml += """
                            <port name="\(stream)" mode="\(stream.hasPrefix("m_") ? "write_only" : "read_only")" \
                    dataWidth="8" portType="stream"/>

                    """
                xml += argumentXML(
                    stream, id: kernel.arguments.count + position, qualifier: 4, port: stream, offset: 0, size: 0,
                    type: "stream&lt;ap_uint&lt;8&gt;&gt;&amp;")
            }
            for unit in kernel.computeUnits {
                xml += """
                            <instance name="\(unit.name)">
                              <addrRemap base="0x\(String(unit.baseAddress, radix: 16))" range="0x10000" port="S_AXI_CONTROL"/>
                            </instance>

                    """
            }
            xml += "      </kernel>\n"
        }
        xml += """
                  </core>
                </device>
              </platform>
            </project>

            """
        return xml
    }

    private func argumentXML(
        _ name: String, id: Int, qualifier: Int, port: String, offset: Int, size: Int, type: String
    ) -> String {
        let hex = { (value: Int) in "0x" + String(value, radix: 16) }
        return """
                    <arg name="\(name)" addressQualifier="\(qualifier)" id="\(id)" port="\(port)" size="\(hex(size))" \
            offset="\(hex(offset))" hostOffset="0x0" hostSize="\(hex(size))" type="\(type)"/>

            """
    }
}

private func put16(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt16) {
    for index in 0..<2 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
}

private func put32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
}

private func put64(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt64) {
    for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
}

private func putString(_ bytes: inout [UInt8], _ offset: Int, _ text: String, length: Int) {
    for (index, byte) in text.utf8.prefix(length - 1).enumerated() { bytes[offset + index] = byte }
}
