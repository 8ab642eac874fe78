import FPGADevice
import FPGADrivers
import FPGAKernels
import FPGATestSupport
import FPGATestSync
import Testing

@Suite("the gzip driver on a simulated device")
struct GzipDriverTests {
    func makeDriver(chunk: Int = 65536) async throws -> GzipDriver {
        let device = SimulatedDevice(name: "sim", kernels: [GzipCompBlockKernel()])
        try await device.loadXclbin(.gzipCompression(computeUnits: 3))
        return try await GzipDriver(device: device, maxChunkSize: chunk)
    }

    @Test func memberLayoutIsAsDocumented() async throws {
        let driver = try await makeDriver()
        let data = TestData.logLines(count: 40_000)
        let member = try await driver.compressMember(data[...])

        #expect(Array(member[0..<16]) == [0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 4, 3, 12, 0, 0x46, 0x43, 8, 0])
        #expect(le32(member, 16) == UInt32(member.count))
        #expect(le32(member, 20) == UInt32(data.count))
        #expect(Array(member[(member.count - 13)..<(member.count - 8)]) == [1, 0, 0, 0xff, 0xff])
        #expect(le32(member, member.count - 8) == Checksum.crc32(data))
        #expect(le32(member, member.count - 4) == UInt32(data.count))
        // The kernel's blocks end with a sync flush, so the final block starts byte aligned.
        #expect(Array(member[(member.count - 17)..<(member.count - 13)]) == [0, 0, 0xff, 0xff])
        #expect(try await ExternalTools.gzipDecompress(member) == data)
    }

    @Test func emptyChunkIsAValidMember() async throws {
        let driver = try await makeDriver()
        let member = try await driver.compressMember([UInt8]()[...])
        #expect(le32(member, 20) == 0)
        #expect(try await ExternalTools.gzipDecompress(member) == [])
    }

    @Test func chunkLargerThanTheBuffersIsRejected() async throws {
        let driver = try await makeDriver(chunk: 4096)
        await #expect(throws: GzipError.chunkTooLarge(4097, limit: 4096)) {
            try await driver.compressMember(TestData.random(count: 4097)[...])
        }
        // The driver is still usable afterwards.
        let member = try await driver.compressMember(TestData.random(count: 4096)[...])
        #expect(le32(member, 20) == 4096)
    }

    @Test func concurrentChunksUseEveryComputeUnit() async throws {
        // Runs held at a gate keep their units busy, so concurrent chunks must go to the
        // others: the driver's six slots are two on each of the three units.
        let gate = ThreadGate()
        defer { gate.open() }
        let arrivals = Watched<[String]>([])
        let kernel = GatedGzipKernel { invocation in
            arrivals.update { $0.append(invocation.computeUnit) }
            return gate
        }
        let device = SimulatedDevice(name: "sim", kernels: [kernel])
        try await device.loadXclbin(.gzipCompression(computeUnits: 3))
        let driver = try await GzipDriver(device: device, maxChunkSize: 65536)
        #expect(driver.computeUnits == 3)
        #expect(driver.capacity == 6)
        let inputs = (0..<12).map { TestData.random(count: 1000 + $0, seed: UInt64($0)) }
        let compressing = Task {
            try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                for (index, input) in inputs.enumerated() {
                    group.addTask { (index, try await driver.compressMember(input[...])) }
                }
                var members = [[UInt8]](repeating: [], count: inputs.count)
                for try await (index, member) in group { members[index] = member }
                return members
            }
        }
        // Each unit holds one run at the gate at a time, so three arrivals are three units.
        let held = try await arrivals.wait(until: { $0.count >= 3 }, "three runs at the gate")
        #expect(Set(held) == ["xilGzipCompBlock_1", "xilGzipCompBlock_2", "xilGzipCompBlock_3"])
        gate.open()
        let members = try await compressing.boundedValue("the chunks to compress")
        for (input, member) in zip(inputs, members) {
            #expect(try ExternalTools.zlibDecompress(member) == input)
        }
        #expect(Set(arrivals.value) == Set(held))
    }

    @Test func driverNeedsTheGzipProgram() async throws {
        let device = SimulatedDevice(name: "sim", kernels: [GzipCompBlockKernel()])
        await #expect(throws: DeviceError.noXclbinLoaded(device: "sim")) {
            try await GzipDriver(device: device, maxChunkSize: 4096)
        }
    }

    @Test func kernelFailureIsADeviceError() async throws {
        let device = SimulatedDevice.faulty(name: "bad", failingRun: 1)
        try await device.loadXclbin(.gzipCompression())
        let driver = try await GzipDriver(device: device, maxChunkSize: 4096)
        await #expect(throws: DeviceError.runFailed(kernel: "xilGzipCompBlock", message: "injected failure on run 1")) {
            try await driver.compressMember([1, 2, 3][...])
        }
    }

    private func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
}
