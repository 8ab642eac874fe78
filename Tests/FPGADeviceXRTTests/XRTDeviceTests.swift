import CXRT
import FPGADevice
import FPGADeviceXRT
import FPGADrivers
import FPGAKernels
import FPGATestSupport
import Testing

/// The real XRT code path on the noop shim: every call reaches XRT, which accepts it
/// without a card and computes nothing. The tests check the path, the run states, the
/// buffers' sizes and groups, and the errors; never output bytes.
@Suite("XRTDevice on XRT's noop shim", .serialized)
struct XRTDeviceTests {
    @Test func loadsAGeneratedXclbinAndListsItsKernels() async throws {
        let device = try await noopDevice(loading: .gzip())
        let xclbin = try #require(await device.xclbin)
        #expect(device.info.kind == .xrt)
        #expect(device.info.name == "xrt:0")
        #expect(xclbin.kernels.map(\.name) == ["xilGzipCompBlock"])
        #expect(
            xclbin.kernels[0].computeUnits.map(\.name) == [
                "xilGzipCompBlock_1", "xilGzipCompBlock_2", "xilGzipCompBlock_3",
            ])
        #expect(xclbin.memoryBanks.count == 32)
        #expect(xclbin.memoryBanks[5] == MemoryBank(tag: "HBM[5]", size: 256 << 20))
        // XRT returns the UUID of the header, which the generated file takes from the program.
        #expect(xclbin.uuid == Xclbin.gzipCompression().uuid)
    }

    @Test func opensEveryComputeUnitWithItsMemoryGroup() async throws {
        let device = try await noopDevice(loading: .gzip())
        let all = try await device.openKernel("xilGzipCompBlock")
        #expect(
            all.computeUnitNames == [
                "xilGzipCompBlock:{xilGzipCompBlock_1}", "xilGzipCompBlock:{xilGzipCompBlock_2}",
                "xilGzipCompBlock:{xilGzipCompBlock_3}",
            ])
        for (index, name) in all.computeUnitNames.enumerated() {
            let unit = try await device.openKernel(name)
            #expect(unit.computeUnits == [index])
            // Opening checked XRT's group_id against CONNECTIVITY; the handle reports it.
            for argument in 0..<4 { #expect(try unit.group(forArgument: argument) == index) }
        }
    }

    @Test func groupSectionsNumberTheMemoryGroupsWhenPresent() async throws {
        var writer = AXLFWriter.gzip()
        writer.sections += [.groupTopology, .groupConnectivity]
        let device = try await noopDevice(loading: writer)
        // Opening compares XRT's group_id (from the group sections) with the reader's.
        let unit = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_3}")
        #expect(try unit.group(forArgument: 0) == 2)
    }

    @Test func buffersSyncBothWaysInTheirGroup() async throws {
        let device = try await noopDevice(loading: .gzip())
        let buffer = try await device.allocateBuffer(size: 1 << 20, group: 2)
        #expect(buffer.size == 1 << 20)
        #expect(buffer.group == 2)
        let pattern = (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try await device.write(buffer, pattern, offset: 100)
        try await device.sync(buffer, .toDevice)
        try await device.sync(buffer, .fromDevice, size: 4096, offset: 100)
        // The host side is the mapped XRT buffer: what was written is there to read.
        #expect(try await device.read(buffer, offset: 100, count: 4096) == pattern)
        await #expect(throws: DeviceError.bufferRange(offset: 1 << 20, size: 1, bufferSize: 1 << 20)) {
            try await device.sync(buffer, .toDevice, size: 1, offset: 1 << 20)
        }
        // syncToDevice and syncFromDevice take XRT's path: write then sync, sync then map.
        let other = pattern.reversed().map { $0 }
        try await device.syncToDevice(buffer, from: other, offset: 8192)
        #expect(try await device.syncFromDevice(buffer, size: 4096, offset: 8192) { Array($0) } == other)
        #expect(try await device.read(buffer, offset: 8192, count: 4096) == other)
        let filled = try await device.syncToDevice(buffer, count: 16, offset: 100) { host in
            host.copyBytes(from: [UInt8](1...10))
            return 10
        }
        #expect(filled == 10)
        #expect(
            try await device.syncFromDevice(buffer, size: 12, offset: 100) { Array($0) } == [UInt8](1...10)
                + pattern[10..<12])
        await #expect(throws: DeviceError.fillOutOfRange(17, count: 16)) {
            try await device.syncToDevice(buffer, count: 16, offset: 0) { _ in 17 }
        }
        await #expect(throws: DeviceError.bufferRange(offset: (1 << 20) - 1, size: 2, bufferSize: 1 << 20)) {
            try await device.syncFromDevice(buffer, size: 2, offset: (1 << 20) - 1) { _ in () }
        }
        try await device.freeBuffer(buffer)
        await #expect(throws: DeviceError.invalidBuffer) { try await device.sync(buffer, .toDevice) }
    }

    @Test func runsCompleteOnEveryComputeUnit() async throws {
        let device = try await noopDevice(loading: .gzip())
        let kernel = try await device.openKernel("xilGzipCompBlock")
        var units: Set<String> = []
        var runs: [Run] = []
        for group in 0..<3 {
            let buffers = [
                try await device.allocateBuffer(size: 4096, group: group),
                try await device.allocateBuffer(size: 8192, group: group),
                try await device.allocateBuffer(size: 4, group: group),
                try await device.allocateBuffer(size: 4, group: group),
            ]
            for buffer in buffers { try await device.sync(buffer, .toDevice) }
            let run = try await device.start(
                kernel, arguments: buffers.map { .buffer($0) } + [.scalar(UInt32(4096)), .scalar(true)])
            runs.append(run)
            units.insert(run.computeUnit)
            // The run holds its buffers until it is waited for.
            await #expect(throws: DeviceError.bufferBusy) { try await device.sync(buffers[0], .toDevice) }
        }
        // Each run went to the compute unit connected to its buffers' group.
        #expect(units == ["xilGzipCompBlock_1", "xilGzipCompBlock_2", "xilGzipCompBlock_3"])
        for run in runs {
            #expect(try await device.wait(run, timeout: .seconds(10)) == .completed)
            #expect(await device.runError(run) == nil)
        }
    }

    @Test func bufferInAnotherGroupIsRefused() async throws {
        let device = try await noopDevice(loading: .gzip())
        let unit = try await device.openKernel("xilGzipCompBlock:{xilGzipCompBlock_1}")
        let wrong = try await device.allocateBuffer(size: 64, group: 7)
        let right = try await device.allocateBuffer(size: 64, group: 0)
        await #expect(
            throws: DeviceError.bufferNotConnected(
                computeUnit: "xilGzipCompBlock_1", argument: "in", bufferGroup: 7, connectedGroup: 0)
        ) {
            _ = try await device.start(
                unit,
                arguments: [.buffer(wrong), .buffer(right), .buffer(right), .buffer(right), .scalar(1), .scalar(1)])
        }
    }

    @Test func gzipDriverRunsOnXRTAndRefusesNoopOutput() async throws {
        let device = try await noopDevice(loading: .gzip())
        let driver = try await GzipDriver(device: device, maxChunkSize: 1 << 20)
        #expect(driver.computeUnits == 3)
        #expect(driver.capacity == 6)
        // An empty chunk: the checksum buffer keeps the seed the driver wrote, not the CRC
        // of nothing (0) a real kernel writes back.
        await #expect(
            throws: DeviceError.runFailed(
                kernel: "xilGzipCompBlock", message: "reported CRC-32 \(UInt32.max) for empty input (it is 0)")
        ) { _ = try await driver.compressMember([UInt8]()) }
        // The noop shim runs the kernel without computing: the size buffer keeps the zero
        // the driver wrote, which must be refused with a typed error, never assembled
        // into a member around garbage, never a crash.
        let chunk = TestData.logLines(count: 64 << 10)
        for _ in 0..<driver.capacity + 1 {
            await #expect(
                throws: DeviceError.runFailed(
                    kernel: "xilGzipCompBlock", message: "reported 0 compressed bytes for \(chunk.count) input bytes")
            ) { _ = try await driver.compressMember(chunk) }
        }
    }

    @Test func finnDriverRunsIdmaThenOdma() async throws {
        let device = try await noopDevice(loading: .finn(), name: "cnv")
        let xclbin = try #require(await device.xclbin)
        // The stream arguments are in the metadata but not in the host's view.
        #expect(xclbin.kernels.map { $0.arguments.map(\.name) } == [["addr", "numReps"], ["addr", "numReps"]])
        #expect(xclbin.kernels.map { $0.computeUnits.map(\.name) } == [["idma0"], ["odma0"]])
        let driver = try await FINNDriver(device: device, maxBatch: 16, runTimeout: .seconds(10))
        let classes = try await driver.classify(images(16))
        #expect(classes.count == 16)
        #expect(try await driver.classify(images(3)).count == 3)
        await #expect(throws: FINNError.batchTooLarge(17, limit: 16)) { _ = try await driver.classify(images(17)) }
    }

    @Test func aTimedOutRunIsATypedError() async throws {
        let device = try await noopDevice(loading: .finn(), name: "cnv")
        let driver = try await FINNDriver(device: device, maxBatch: 4, runTimeout: .milliseconds(200))
        // Noop completes every run at once and ignores wait timeouts, so the shim's test
        // hook makes the next wait report ERT_CMD_STATE_TIMEOUT, as a hung card would.
        cxrt_testing_fail_next_waits(1)
        await #expect(throws: DeviceError.runTimedOut(kernel: FINNDataflow.outputKernelName)) {
            _ = try await driver.classify(images(4))
        }
    }

    @Test func aTimedOutRunKeepsItsBuffersUntilItEnds() async throws {
        let device = try await noopDevice(loading: .finn(), name: "cnv")
        let kernel = try await device.openKernel("\(FINNDataflow.inputKernelName):{idma0}")
        let buffer = try await device.allocateBuffer(size: 3072, group: 0)
        let run = try await device.start(kernel, arguments: [.buffer(buffer), .scalar(UInt32(1))])
        cxrt_testing_fail_next_waits(1)
        #expect(try await device.wait(run, timeout: .milliseconds(50)) == .timeout)
        await #expect(throws: DeviceError.bufferBusy) { try await device.freeBuffer(buffer) }
        #expect(try await device.wait(run, timeout: nil) == .completed)
        try await device.freeBuffer(buffer)
    }
}
