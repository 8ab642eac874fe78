import FPGADevice
import FPGADrivers
import FPGAKernels
import FPGATestSupport
import FPGATestSync
import Testing

@Suite("the FINN driver on a simulated device")
struct FINNDriverTests {
    let network = ByteSumNetwork()

    func makeDriver(
        network: any FINNNetwork = ByteSumNetwork(), maxBatch: Int = 32, outputTimeout: Duration = .seconds(30)
    ) async throws -> FINNDriver {
        let dataflow = FINNDataflow(network: network, outputTimeout: outputTimeout)
        let device = SimulatedDevice(name: "sim", kernels: dataflow.kernels)
        try await device.loadXclbin(.finnClassifier())
        return try await FINNDriver(device: device, maxBatch: maxBatch)
    }

    func images(_ count: Int, seed: Int = 1) -> [UInt8] {
        (0..<(count * 3072)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761 &+ seed) >> 7) }
    }

    @Test func classesComeBackInImageOrder() async throws {
        let driver = try await makeDriver()
        for count in [1, 7, 32] {
            let batch = images(count, seed: count)
            let classes = try await driver.classify(batch)
            #expect(classes == network.expected(batch))
            #expect(classes.allSatisfy { $0 < 10 })
        }
        // Different images, different classes: the output is not a constant.
        #expect(Set(try await driver.classify(images(32, seed: 5))).count > 1)
    }

    @Test func concurrentCallsEachGetTheirOwnClasses() async throws {
        let driver = try await makeDriver(maxBatch: 8)
        let batches = (0..<6).map { images(8, seed: $0 * 11) }
        let results = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (index, batch) in batches.enumerated() { group.addTask { (index, try await driver.classify(batch)) } }
            var results: [Int: [UInt8]] = [:]
            for try await (index, classes) in group { results[index] = classes }
            return results
        }
        for (index, batch) in batches.enumerated() { #expect(results[index] == network.expected(batch)) }
    }

    @Test func badBatchesAreTypedErrors() async throws {
        let driver = try await makeDriver(maxBatch: 4)
        await #expect(throws: FINNError.partialImage(bytes: 3073, imageBytes: 3072)) {
            _ = try await driver.classify([UInt8](repeating: 0, count: 3073))
        }
        await #expect(throws: FINNError.batchTooLarge(5, limit: 4)) { _ = try await driver.classify(images(5)) }
        #expect(try await driver.classify([UInt8]()) == [])
    }

    /// A driver whose dataflow and device measure time on `clock`.
    func makeDriver(network: any FINNNetwork, clock: ObservedTestClock) async throws -> FINNDriver {
        let dataflow = FINNDataflow(network: network, outputTimeout: .seconds(30), clock: clock)
        let device = SimulatedDevice(name: "sim", kernels: dataflow.kernels, clock: clock)
        try await device.loadXclbin(.finnClassifier())
        return try await FINNDriver(device: device, maxBatch: 32, runTimeout: .seconds(60))
    }

    @Test func aFailingNetworkFailsTheRunWhenTheClockPassesTheOutputTimeout() async throws {
        // idma0 fails, so odma0 waits for classes that never come and fails after its timeout.
        let clock = ObservedTestClock()
        let driver = try await makeDriver(network: FailingNetwork(), clock: clock)
        let batch = images(2)
        let classify = Task { try await driver.classify(batch) }
        // odma0 waits for classes until 30 s; the driver waits for odma0 until 60 s.
        try await clock.waitForSleepers(2)
        #expect(clock.deadlines == [.seconds(30), .seconds(60)])
        await clock.advance(by: .seconds(30) - .nanoseconds(1))
        #expect(clock.sleeperCount == 2, "odma0 gave up before its timeout")
        await clock.advance(by: .nanoseconds(2))
        let message = "odma0 waited \(Duration.seconds(30)) for 2 classes; the dataflow produced 0"
        await #expect(throws: DeviceError.runFailed(kernel: FINNDataflow.outputKernelName, message: message)) {
            _ = try await classify.boundedValue("the failing batch")
        }
    }

    @Test func classesThatComeBeforeTheOutputTimeoutAreDelivered() async throws {
        // idma0 is held at a gate while the clock runs to just before odma0's timeout.
        let clock = ObservedTestClock()
        let gate = ThreadGate()
        defer { gate.open() }
        let driver = try await makeDriver(network: GatedNetwork(gate: gate), clock: clock)
        let batch = images(3)
        let classify = Task { try await driver.classify(batch) }
        try await clock.waitForSleepers(2)
        await clock.advance(by: .seconds(30) - .nanoseconds(1))
        gate.open()
        #expect(try await classify.boundedValue("the late batch") == network.expected(batch))
        // odma0's alarm and the driver's run timeout went with the runs.
        try await clock.waitForSleepers(0)
    }

    @Test func aProgramWithoutDMAsIsRefused() async throws {
        let device = SimulatedDevice(name: "sim", kernels: [GzipCompBlockKernel()])
        try await device.loadXclbin(.gzipCompression())
        await #expect(throws: FINNError.missingComputeUnit("idma0", xclbin: "gzip")) {
            _ = try await FINNDriver(device: device, maxBatch: 1)
        }
    }
}

/// ``ByteSumNetwork`` whose every batch waits at a gate first.
private struct GatedNetwork: FINNNetwork {
    let gate: ThreadGate
    let inner = ByteSumNetwork()
    var inputBytesPerImage: Int { inner.inputBytesPerImage }

    func classify(images: UnsafeRawBufferPointer, count: Int, into classes: UnsafeMutableRawBufferPointer) throws {
        guard gate.wait() else { throw KernelFault("the test never opened the gate") }
        try inner.classify(images: images, count: count, into: classes)
    }
}
