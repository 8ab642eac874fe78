import FPGATestSupport
import FPGATestSync
import Synchronization
import Testing

@testable import FPGACluster

/// The scheduler's core with fake lanes, in-process: every order is forced with gates, so
/// the tests pass or fail the same way on an idle machine and on a loaded one.
@Suite("OrderedPipeline with fake lanes", .timeLimit(stuckTestLimit))
struct OrderedPipelineTests {
    typealias Pipeline = OrderedPipeline<Int, Int>

    /// What the lanes and the sink saw.
    final class Record: Sendable {
        private struct State {
            var started: [(lane: String, index: Int)] = []
            var delivered: [Int] = []
            var inFlight = 0
            var mostInFlight = 0
            var taken = 0
        }
        private let state = Mutex(State())
        /// Runs started, counted as events.
        let starts = ProgressCounter()
        /// Outputs delivered, counted as events.
        let deliveries = ProgressCounter()

        func take() { state.withLock { $0.taken += 1 } }
        func begin(_ lane: String, _ index: Int) {
            let count = state.withLock { state -> Int in
                state.started.append((lane, index))
                state.inFlight += 1
                state.mostInFlight = max(state.mostInFlight, state.inFlight)
                return state.started.count
            }
            starts.advance(to: count)
        }
        func end() { state.withLock { $0.inFlight -= 1 } }
        func deliver(_ output: Int) {
            let count = state.withLock { state -> Int in
                state.delivered.append(output)
                return state.delivered.count
            }
            deliveries.advance(to: count)
        }
        var started: [(lane: String, index: Int)] { state.withLock { $0.started } }
        var delivered: [Int] { state.withLock { $0.delivered } }
        var mostInFlight: Int { state.withLock { $0.mostInFlight } }
        var taken: Int { state.withLock { $0.taken } }
        func lanes(thatStarted index: Int) -> [String] { started.filter { $0.index == index }.map(\.lane) }
    }

    /// One gate per input index: the run of input `i` returns once gate `i` opens.
    struct Gates: Sendable {
        let gates: [AsyncGate]
        init(count: Int) { gates = (0..<count).map { _ in AsyncGate() } }
        subscript(index: Int) -> AsyncGate { gates[index] }
        func openAll() { for gate in gates { gate.open() } }
    }

    /// A source of `count` inputs 0..<count that records every take.
    static func source(count: Int, record: Record) -> @Sendable () async throws -> (index: Int, input: Int)? {
        let next = Atomic<Int>(0)
        return {
            let index = next.add(1, ordering: .relaxed).oldValue
            guard index < count else { return nil }
            record.take()
            return (index, index)
        }
    }

    /// Runs `pipeline` over `count` inputs in a task of its own, delivering to `record`.
    static func start(_ pipeline: Pipeline, count: Int, record: Record) -> Task<[String: Int], any Error> {
        Task {
            try await pipeline.run(source: Self.source(count: count, record: record)) { output, _ in
                record.deliver(output)
            }
        }
    }

    /// A lane that records its runs and returns `input * 10` once the input's gate opens.
    static func lane(
        _ name: String, record: Record, gates: Gates? = nil,
        fail: (@Sendable (Int) throws -> Void)? = nil,
        recover: (@Sendable () async throws -> Void)? = nil
    ) -> Pipeline.Lane {
        Pipeline.Lane(
            name: name,
            run: { input in
                record.begin(name, input)
                defer { record.end() }
                try fail?(input)
                try await gates?[input].wait()
                return input * 10
            },
            recover: recover)
    }

    @Test func outputsReachTheSinkInInputOrderWhateverOrderRunsFinish() async throws {
        let record = Record()
        let gates = Gates(count: 4)
        let pipeline = Pipeline(lanes: (0..<4).map { Self.lane("lane\($0)", record: record, gates: gates) })
        let job = Self.start(pipeline, count: 4, record: record)
        try await record.starts.wait(untilReaches: 4, "four runs to start")
        // Finish them backwards: nothing may be delivered before input 0's output.
        for index in [3, 2, 1] { gates[index].open() }
        #expect(record.delivered.isEmpty, "delivered before input 0 finished: \(record.delivered)")
        gates[0].open()
        let counts = try await job.value
        #expect(record.delivered == [0, 10, 20, 30])
        #expect(counts.values.reduce(0, +) == 4)
    }

    @Test func noMoreInputsAreTakenThanTheWindowHolds() async throws {
        let record = Record()
        let gates = Gates(count: 12)
        // Six free lanes, but a window of three: the fourth input waits for the first delivery.
        let pipeline = Pipeline(
            lanes: (0..<6).map { Self.lane("lane\($0)", record: record, gates: gates) }, window: 3)
        let job = Self.start(pipeline, count: 12, record: record)
        try await record.starts.wait(untilReaches: 3, "three runs to start")
        #expect(record.taken == 3)
        gates[0].open()
        try await record.starts.wait(untilReaches: 4, "a fourth run after the first delivery")
        gates.openAll()
        _ = try await job.value
        #expect(record.mostInFlight <= 3, "\(record.mostInFlight) inputs in flight with a window of 3")
        #expect(record.delivered == (0..<12).map { $0 * 10 })
    }

    @Test func aLostLanesInputRunsOnAnotherLane() async throws {
        let record = Record()
        let workerBack = AsyncGate()
        let recovered = ProgressCounter()
        let lost = Self.lane(
            "lost", record: record,
            fail: { _ in throw ClusterError.workerLost("lost", reason: "test") },
            recover: {
                recovered.advance(to: 1)
                try await workerBack.wait()
                throw ClusterError.workerLost("lost", reason: "gave up")
            })
        let gates = Gates(count: 8)
        let requeued = Mutex<[String]>([])
        let pipeline = Pipeline(
            lanes: [lost, Self.lane("good", record: record, gates: gates)],
            onRequeue: { lane in requeued.withLock { $0.append(lane) } })
        let job = Self.start(pipeline, count: 8, record: record)
        try await recovered.wait(untilReaches: 1, "the lost lane to start recovering")
        gates.openAll()
        let counts = try await job.value
        #expect(record.delivered == (0..<8).map { $0 * 10 })
        #expect(counts["good"] == 8)
        #expect((counts["lost"] ?? 0) == 0)
        // The one input the lost lane took went back to the queue, and was reported.
        #expect(requeued.withLock { $0 } == ["lost"])
        // Every input the lost lane took was run again by the good lane.
        for (lane, index) in record.started where lane == "lost" {
            #expect(record.lanes(thatStarted: index).contains("good"), "input \(index) never reran")
        }
        workerBack.open()
    }

    @Test func aRecoveredLaneTakesInputsAgain() async throws {
        let record = Record()
        let failures = Atomic<Int>(0)
        let recovering = ProgressCounter()
        let workerBack = AsyncGate()
        let flaky = Self.lane(
            "flaky", record: record,
            fail: { _ in
                // Only its first run is lost; after recovery it works.
                if failures.add(1, ordering: .relaxed).oldValue == 0 {
                    throw ClusterError.workerLost("flaky", reason: "test")
                }
            },
            recover: {
                recovering.advance(to: 1)
                try await workerBack.wait()
            })
        // The other lane holds its first input until the flaky lane has recovered and run one.
        let holdGates = Gates(count: 6)
        let steady = Pipeline.Lane(name: "steady") { input in
            record.begin("steady", input)
            defer { record.end() }
            try await holdGates[input].wait()
            return input * 10
        }
        let pipeline = Pipeline(lanes: [flaky, steady], window: 6)
        let job = Self.start(pipeline, count: 6, record: record)
        try await recovering.wait(untilReaches: 1, "the flaky lane to lose its worker")
        workerBack.open()
        // After recovery the flaky lane runs inputs to completion (it has no gate).
        try await record.starts.wait(untilReaches: 3, "runs after the recovery")
        holdGates.openAll()
        let counts = try await job.value
        #expect(record.delivered == (0..<6).map { $0 * 10 })
        #expect((counts["flaky"] ?? 0) > 0, "the recovered lane ran nothing: \(counts)")
        #expect(counts.values.reduce(0, +) == 6)
    }

    @Test func theJobFailsWhenEveryLaneGivesUp() async throws {
        let record = Record()
        let lanes = (0..<2).map { number in
            Self.lane(
                "lane\(number)", record: record,
                fail: { _ in throw ClusterError.workerLost("lane\(number)", reason: "test") },
                recover: { throw ClusterError.workerLost("lane\(number)", reason: "budget spent") })
        }
        let pipeline = Pipeline(lanes: lanes)
        await #expect {
            try await pipeline.run(source: Self.source(count: 5, record: record)) { output, _ in
                record.deliver(output)
            }
        } throws: { error in
            guard case .noWorkersLeft(let reason)? = error as? ClusterError else { return false }
            return reason.contains("budget spent")
        }
        #expect(record.delivered.isEmpty)
    }

    @Test func aLaneWithoutRecoveryFailsTheJobWithItsError() async throws {
        let record = Record()
        let pipeline = Pipeline(lanes: [
            Self.lane("local", record: record, fail: { _ in throw ClusterError.workerLost("local", reason: "test") })
        ])
        await #expect(throws: ClusterError.workerLost("local", reason: "test")) {
            try await pipeline.run(source: Self.source(count: 3, record: record)) { output, _ in
                record.deliver(output)
            }
        }
    }

    @Test func aFailingSinkStopsTheJobWithItsError() async throws {
        struct SinkFull: Error, Equatable {}
        let record = Record()
        let pipeline = Pipeline(lanes: (0..<2).map { Self.lane("lane\($0)", record: record) })
        await #expect(throws: SinkFull()) {
            try await pipeline.run(source: Self.source(count: 50, record: record)) { output, _ in
                if output == 30 { throw SinkFull() }
                record.deliver(output)
            }
        }
        #expect(record.delivered == [0, 10, 20])
    }

    @Test func aJobFinishesWhileALostLaneIsStillRecovering() async throws {
        let record = Record()
        let recovering = ProgressCounter()
        // The lost lane's worker never comes back: its recovery waits on a gate nobody opens,
        // and the job must end anyway once the other lane has delivered everything.
        let never = AsyncGate()
        let lost = Self.lane(
            "lost", record: record,
            fail: { _ in throw ClusterError.workerLost("lost", reason: "test") },
            recover: {
                recovering.advance(to: 1)
                try await never.wait()
            })
        let gates = Gates(count: 4)
        let pipeline = Pipeline(lanes: [lost, Self.lane("good", record: record, gates: gates)])
        let job = Self.start(pipeline, count: 4, record: record)
        try await recovering.wait(untilReaches: 1, "the lost lane to start recovering")
        gates.openAll()
        let counts = try await job.value
        #expect(counts["good"] == 4)
        #expect(record.delivered == [0, 10, 20, 30])
    }

    @Test func weightsReachTheSinkWithTheirOutputs() async throws {
        let weights = Mutex<[Int]>([])
        let record = Record()
        let pipeline = Pipeline(lanes: (0..<3).map { Self.lane("lane\($0)", record: record) })
        _ = try await pipeline.run(
            source: Self.source(count: 6, record: record), weight: { $0 + 100 },
            sink: { _, weight in weights.withLock { $0.append(weight) } })
        #expect(weights.withLock { $0 } == (100..<106).map { $0 })
    }
}
