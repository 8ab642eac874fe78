import FPGADevice
import FPGADrivers
import FPGAKernels
import FPGATestSupport
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

    @Test func aFailingNetworkFailsTheRun() async throws {
        // idma0 fails, so odma0 waits for classes that never come and fails after its timeout.
        let driver = try await makeDriver(network: FailingNetwork(), outputTimeout: .milliseconds(100))
        await #expect(throws: DeviceError.self) { _ = try await driver.classify(images(2)) }
    }

    @Test func aProgramWithoutDMAsIsRefused() async throws {
        let device = SimulatedDevice(name: "sim", kernels: [GzipCompBlockKernel()])
        try await device.loadXclbin(.gzipCompression())
        await #expect(throws: FINNError.missingComputeUnit("idma0", xclbin: "gzip")) {
            _ = try await FINNDriver(device: device, maxBatch: 1)
        }
    }
}
