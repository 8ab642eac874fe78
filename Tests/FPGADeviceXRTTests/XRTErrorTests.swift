import CXRT
import FPGADevice
import FPGADeviceXRT
import FPGAKernels
import FPGATestSupport
import Foundation
import Testing

/// Every bad input on the XRT path is a typed error; none reaches XRT in a form that
/// crashes it.
@Suite("XRTDevice errors", .serialized)
struct XRTErrorTests {
    let gzip = AXLFWriter.gzip().bytes()

    @Test func missingEmptyTruncatedAndGarbageFiles() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        func reason(_ path: String) -> String? {
            do {
                _ = try Xclbin.load(file: path, name: "gzip")
                return nil
            } catch {
                guard case .invalidXclbin(let reason) = error else { return "\(error)" }
                return reason
            }
        }
        #expect(reason(folder.file("missing.xclbin"))?.contains("No such file") == true)
        try folder.write("empty.xclbin", [])
        #expect(reason(folder.file("empty.xclbin"))?.contains("empty") == true)
        try folder.write("magic.xclbin", Array("xclbin2".utf8) + [0])
        #expect(reason(folder.file("magic.xclbin"))?.contains("shorter") == true)
        try folder.write("truncated.xclbin", Array(gzip.prefix(gzip.count - 100)))
        #expect(reason(folder.file("truncated.xclbin"))?.contains("truncated") == true)
        try folder.write("garbage.xclbin", (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 131 + 7) })
        #expect(reason(folder.file("garbage.xclbin"))?.contains("magic") == true)
        #expect(reason(folder.path)?.contains("not a regular file") == true)
        try folder.write("good.xclbin", gzip)
        #expect(reason(folder.file("good.xclbin")) == nil)
    }

    @Test func sectionsOutsideTheFileOrMissing() throws {
        // A section offset past the end (the truncated-file case XRT reads past).
        var outside = gzip
        outside[456 + 24] = 0xff
        outside[456 + 25] = 0xff
        #expect(throws: DeviceError.self) { try Xclbin(axlf: outside, name: "gzip") }
        // Without the 4 padding bytes the table is misread: offsets point nowhere useful.
        for missing in [AXLF.SectionKind.memoryTopology, .ipLayout, .connectivity, .embeddedMetadata] {
            var writer = AXLFWriter.gzip()
            writer.sections.removeAll { $0 == missing }
            #expect(throws: DeviceError.invalidXclbin("no \(missing.xrtName) section")) {
                try Xclbin(axlf: writer.bytes(), name: "gzip")
            }
        }
        // A count larger than its section.
        var counted = gzip
        let ipSection = try AXLF(bytes: gzip).sections.first { $0.kind == AXLF.SectionKind.ipLayout.rawValue }!
        counted[ipSection.offset] = 200
        #expect(throws: DeviceError.self) { try Xclbin(axlf: counted, name: "gzip") }
    }

    @Test func theCLayerRefusesBadBytesAndContainsXRTExceptions() throws {
        try NoopXRT.install()
        var device: OpaquePointer?
        #expect(cxrt_device_open(0, &device) == 0)
        defer { cxrt_device_free(device) }
        var uuid = [UInt8](repeating: 0, count: 16)
        // Empty and truncated buffers never reach XRT (it would crash or read past the end).
        #expect(cxrt_device_load_xclbin(device, nil, 0, &uuid) == Int32(CXRT_ERROR_INVALID_HANDLE.rawValue))
        let truncated = Array(gzip.prefix(600))
        #expect(cxrt_device_load_xclbin(device, truncated, truncated.count, &uuid) == Int32(CXRT_ERROR_XCLBIN.rawValue))
        #expect(String(cString: cxrt_last_error()).contains("header length"))
        // A well-formed file, then XRT's own exception for a kernel it does not have.
        #expect(cxrt_device_load_xclbin(device, gzip, gzip.count, &uuid) == 0)
        var kernel: OpaquePointer?
        #expect(cxrt_kernel_open(device, uuid, "noSuchKernel", &kernel) == Int32(CXRT_ERROR_KERNEL.rawValue))
        #expect(kernel == nil)
        #expect(!String(cString: cxrt_last_error()).isEmpty)
        // NULL handles are errors, not crashes.
        #expect(cxrt_bo_sync(nil, 1, 0, 0) == Int32(CXRT_ERROR_INVALID_HANDLE.rawValue))
        #expect(cxrt_run_start(nil) == Int32(CXRT_ERROR_INVALID_HANDLE.rawValue))
    }

    @Test func wrongKernelNames() async throws {
        let device = try await noopDevice(loading: .gzip())
        await #expect(throws: DeviceError.kernelNotFound("xilZlibCompressFull", available: ["xilGzipCompBlock"])) {
            _ = try await device.openKernel("xilZlibCompressFull")
        }
        await #expect(
            throws: DeviceError.computeUnitNotFound(kernel: "xilGzipCompBlock", instance: "xilGzipCompBlock_4")
        ) {
            _ = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_4}")
        }
    }

    @Test func aBufferLargerThanItsBank() async throws {
        let device = try await noopDevice(loading: .gzip())
        await #expect(throws: DeviceError.outOfDeviceMemory(group: 0, requested: (256 << 20) + 1, available: 256 << 20))
        {
            _ = try await device.allocateBuffer(size: (256 << 20) + 1, group: 0)
        }
        let most = try await device.allocateBuffer(size: 200 << 20, group: 1)
        await #expect(throws: DeviceError.outOfDeviceMemory(group: 1, requested: 100 << 20, available: 56 << 20)) {
            _ = try await device.allocateBuffer(size: 100 << 20, group: 1)
        }
        try await device.freeBuffer(most)
        _ = try await device.allocateBuffer(size: 100 << 20, group: 1)
        await #expect(throws: DeviceError.invalidMemoryGroup(32)) {
            _ = try await device.allocateBuffer(size: 1, group: 32)
        }
    }

    @Test func aDescriptionWithoutAFileIsRefused() async throws {
        let device = try await noopDevice()
        await #expect(throws: DeviceError.self) { try await device.loadXclbin(.gzipCompression()) }
        await #expect(throws: DeviceError.noXclbinLoaded(device: "xrt:0")) { _ = try await device.openKernel("x") }
    }

    /// XRT reads its environment once per process: these cases run in child processes.
    @Test func noXilinxXRTAndNoCardAreOneLineErrors() async throws {
        let worker = WorkerProcess.executable("fpga-worker")
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("gzip.xclbin", gzip)
        let arguments = [
            worker, "--listen", "127.0.0.1:0", "--device", "xrt:0", "--xclbin", "gzip=\(folder.file("gzip.xclbin"))",
        ]
        let unset = try await ExternalTools.run(
            ["-u", "XILINX_XRT", "-u", "XRT_INI_PATH", "XCL_EMULATION_MODE=noop"] + arguments)
        #expect(unset.status != 0)
        #expect(unset.error.contains("XILINX_XRT is not set"), "\(unset.error)")
        #expect(unset.error.split(separator: "\n").count == 1, "\(unset.error)")
        // Hardware mode (no emulation, the hardware shim present) on a machine without a card.
        let root = try NoopXRT.install()
        let noCard = try await ExternalTools.run(
            ["-u", "XCL_EMULATION_MODE", "-u", "XRT_INI_PATH", "XILINX_XRT=\(root)"] + arguments)
        #expect(noCard.status != 0)
        #expect(noCard.error.contains("no XRT device 0"), "\(noCard.error)")
        #expect(noCard.error.split(separator: "\n").count == 1, "\(noCard.error)")
        let list = try await ExternalTools.run(
            ["-u", "XCL_EMULATION_MODE", "-u", "XRT_INI_PATH", "XILINX_XRT=\(root)", worker, "--list-devices"])
        #expect(String(decoding: list.output, as: UTF8.self).contains("no XRT devices found"), "\(list)")
    }
}
