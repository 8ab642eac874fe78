import FPGADevice
import FPGATestSupport
import FPGATestSync
import Synchronization
import Testing

@testable import FPGACluster

/// `Cluster.run` (streamed) and `Cluster.map` (all at once) for any device job, here gzip
/// compression on simulated devices. Every order is forced with gates and counters, never
/// with sleeps, so the verdict is the same on an idle machine and a loaded one.
@Suite("Cluster.run and Cluster.map", .timeLimit(stuckTestLimit))
struct ClusterRunTests {
    static let chunkSize = 1024
    let job = GzipCompressionJob(chunkSize: Self.chunkSize)

    /// Input `index`: distinct bytes of up to one chunk.
    static func input(_ index: Int) -> ArraySlice<UInt8> {
        ArraySlice(Array("input \(index): ".utf8) + TestData.logLines(count: index * 37 % 900, seed: UInt64(index)))
    }

    /// A cluster of `count` simulated devices with small chunks.
    static func cluster(devices count: Int) throws -> Cluster {
        try Cluster(devices: .simulated(count: count), configuration: .init(chunkSize: chunkSize))
    }

    /// Checks that `members` are the gzip members of `inputs`, one each, in order.
    static func expectMembers(
        _ members: [ArraySlice<UInt8>], of inputs: [ArraySlice<UInt8>], on cluster: Cluster,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        #expect(members.count == inputs.count, sourceLocation: sourceLocation)
        let inflated = try await cluster.decompress(Array(members.joined()))
        #expect(inflated == Array(inputs.joined()), sourceLocation: sourceLocation)
    }

    @Test func streamedOutputsKeepInputOrderOverSeveralDevices() async throws {
        let cluster = try Self.cluster(devices: 3)
        let inputs = TrackedInputs(count: 300)
        var members: [ArraySlice<UInt8>] = []
        for try await member in cluster.run(job, inputs: inputs) { members.append(member) }
        try await Self.expectMembers(members, of: (0..<300).map(Self.input), on: cluster)
        var runs = 0
        for node in cluster.nodes { runs += await node.completed["gzip"] ?? 0 }
        #expect(runs == 300)
    }

    @Test func mapKeepsInputOrderAndMatchesTheStream() async throws {
        let cluster = try Self.cluster(devices: 3)
        let inputs = (0..<300).map(Self.input)
        let members = try await cluster.map(job, inputs: inputs)
        try await Self.expectMembers(members, of: inputs, on: cluster)
        var streamed: [ArraySlice<UInt8>] = []
        for try await member in cluster.run(job, inputs: TrackedInputs(count: 300)) { streamed.append(member) }
        #expect(streamed == members)
    }

    @Test func theEmbeddedClusterEchoesInOrderBetweenGzipJobs() async throws {
        // The pipeline-ceiling job: every node echoes next to its loaded gzip program.
        let cluster = try Self.cluster(devices: 2)
        let inputs = (0..<200).map(Self.input)
        let before = try await cluster.map(job, inputs: inputs)
        let echoed = try await cluster.map(EchoJob(), inputs: inputs)
        #expect(echoed == inputs)
        #expect(try await cluster.map(job, inputs: inputs) == before)
        var echoes = 0
        for node in cluster.nodes { echoes += await node.completed["echo"] ?? 0 }
        #expect(echoes == 200)
    }

    @Test func anEmptyInputGivesNoOutput() async throws {
        let cluster = try Self.cluster(devices: 2)
        let inputs = TrackedInputs(count: 0)
        var outputs = 0
        for try await _ in cluster.run(job, inputs: inputs) { outputs += 1 }
        #expect(outputs == 0)
        #expect(try await cluster.map(job, inputs: []).isEmpty)
    }

    @Test func anErrorOfTheInputSequenceEndsTheStreamWithIt() async throws {
        let cluster = try Self.cluster(devices: 2)
        let inputs = TrackedInputs(count: 100, failingAt: 40)
        var members: [ArraySlice<UInt8>] = []
        await #expect(throws: InputFailure(index: 40)) {
            for try await member in cluster.run(job, inputs: inputs) { members.append(member) }
        }
        // What came before the error is right and in order: a prefix of the outputs.
        #expect(members.count <= 40)
        try await Self.expectMembers(members, of: (0..<members.count).map(Self.input), on: cluster)
    }

    @Test func aConsumerThatStopsIteratingEndsTheJob() async throws {
        let cluster = try Self.cluster(devices: 2)
        let window = try await Self.window(of: cluster, for: job)
        let inputs = TrackedInputs(count: nil)  // endless: only cancellation ends the job
        var members: [ArraySlice<UInt8>] = []
        for try await member in cluster.run(job, inputs: inputs) {
            members.append(member)
            if members.count == 3 { break }
        }
        // The job read the inputs; it lets go of them only when it has ended.
        try await inputs.released.wait()
        #expect(inputs.pulled.count <= 3 + window, "read \(inputs.pulled.count) inputs ahead of 3 outputs")
        try await Self.expectMembers(members, of: (0..<3).map(Self.input), on: cluster)
    }

    @Test func cancellingTheConsumersTaskEndsTheJobWhileRunsAreHeld() async throws {
        let gate = ThreadGate()
        let kernels = (0..<2).map { _ in GatedGzipKernel(holdingAt: gate) }
        let devices: [any Device] = kernels.enumerated().map { index, kernel in
            SimulatedDevice(name: "sim\(index)", kernels: [kernel])
        }
        let cluster = try Cluster(devices: devices, configuration: .init(chunkSize: Self.chunkSize))
        let inputs = TrackedInputs(count: nil)
        let job = job
        let consumer = Task {
            var outputs = 0
            for try await _ in cluster.run(job, inputs: inputs) { outputs += 1 }
            return outputs
        }
        try await kernels[0].started.wait(untilReaches: 1, "a run to reach the held kernel")
        consumer.cancel()
        // The consumer's iteration ends at once, though every run is still held on a device.
        #expect(try await consumer.value == 0)
        #expect(kernels.allSatisfy { $0.finished.count == 0 })
        gate.open()
        try await inputs.released.wait()
    }

    @Test func inputsAreReadAheadOnlyAsFarAsTheWindow() async throws {
        let cluster = try Self.cluster(devices: 3)
        let window = try await Self.window(of: cluster, for: job)
        let count = 4 * window
        // Every read checks that the cluster is no further ahead than the window allows:
        // each `next()` the consumer has begun may release one place.
        let consumerCalls = ProgressCounter()
        let overreach = Mutex<[String]>([])
        let inputs = TrackedInputs(count: count) { index in
            let calls = consumerCalls.count
            if index >= calls + window {
                overreach.withLock { $0.append("input \(index) read after \(calls) calls to next()") }
            }
        }
        var iterator = cluster.run(job, inputs: inputs).makeAsyncIterator()
        var members: [ArraySlice<UInt8>] = []
        consumerCalls.advance(to: 1)
        members.append(try #require(try await iterator.next()))
        // While the consumer holds back, the cluster fills the window and stops there.
        try await inputs.pulled.wait(untilReaches: 1 + window, "the cluster to read ahead a window's worth")
        #expect(inputs.pulled.count == 1 + window)
        while true {
            consumerCalls.advance(to: members.count + 1)
            guard let member = try await iterator.next() else { break }
            members.append(member)
        }
        #expect(overreach.withLock { $0 }.isEmpty)
        try await Self.expectMembers(members, of: (0..<count).map(Self.input), on: cluster)
    }

    /// How many inputs `cluster`'s scatter of `job` keeps between being read and being
    /// consumed.
    static func window<Job: DeviceJob>(of cluster: Cluster, for job: Job) async throws -> Int {
        OrderedPipeline(lanes: try await cluster.lanes(for: job)).window
    }
}

/// What ``TrackedInputs`` throws where it was told to.
struct InputFailure: Error, Equatable {
    let index: Int
}

/// ``ClusterRunTests/input(_:)`` 0, 1, 2, ... as an async sequence that counts its reads,
/// may check each before it happens or fail at one, and says when its iterator is released
/// (by the job that read it, once that job has ended).
struct TrackedInputs: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>

    /// The number of inputs, or nil for no end.
    let count: Int?
    let failingAt: Int?
    let beforeRead: @Sendable (Int) -> Void
    /// Inputs read.
    let pulled = ProgressCounter()
    /// Opens when the iterator is released.
    let released = AsyncGate()

    init(count: Int?, failingAt: Int? = nil, beforeRead: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.count = count
        self.failingAt = failingAt
        self.beforeRead = beforeRead
    }

    func makeAsyncIterator() -> Iterator { Iterator(inputs: self) }

    final class Iterator: AsyncIteratorProtocol {
        private let inputs: TrackedInputs
        private var index = 0

        init(inputs: TrackedInputs) { self.inputs = inputs }

        deinit { inputs.released.open() }

        func next() async throws -> ArraySlice<UInt8>? {
            if let count = inputs.count, index >= count { return nil }
            if index == inputs.failingAt { throw InputFailure(index: index) }
            inputs.beforeRead(index)
            defer {
                index += 1
                inputs.pulled.advance(to: index)
            }
            return ClusterRunTests.input(index)
        }
    }
}
