import Clocks
import FPGACluster
import FPGATestSync
import FPGATransport
import MetricsTestKit
import Testing

/// A ``WorkerConnection`` with time in the test's hands: heartbeats, the frozen-worker
/// check, the run deadline, the connect timeout and reconnection backoff all run on a
/// `TestClock` the test advances, against a worker the test plays frame by frame.
/// Assertions are on frames, errors and closed connections, never on elapsed time.
@Suite("WorkerConnection on a test clock", .timeLimit(stuckTestLimit))
struct WorkerConnectionClockTests {
    /// A remote worker connected to `worker`, and the worker's side of the connection.
    private func connect(
        _ worker: ScriptedWorker, settings: WorkerConnection.Settings
    ) async throws -> (WorkerConnection, WorkerPeer) {
        let remote = WorkerConnection(endpoint: worker.endpoint, token: nil, settings: settings)
        let connecting = Task { try await remote.connect() }
        let peer = try await worker.acceptAndWelcome("the first connection")
        let welcome = try await outcome(of: connecting, "connect() to return")
        #expect(welcome == ScriptedWorker.welcome)
        return (remote, peer)
    }

    /// Runs `input` through echo on `node` in a task, and waits for its RUN at `peer`.
    private func startRun(
        _ input: [UInt8], on node: RemoteNode, at peer: WorkerPeer
    ) async throws -> (Task<ArraySlice<UInt8>, any Error>, Frame) {
        let run = Task { try await node.run(EchoJob(), input[...]) }
        let frame = try await peer.next(.run, "the RUN of \(input)")
        return (run, frame)
    }

    /// The reason of the `workerLost` error `task` ends with.
    private func lossReason<T: Sendable>(of task: Task<T, any Error>, _ what: String) async throws -> String {
        do {
            let value = try await outcome(of: task, what)
            Issue.record("\(what): expected the worker to be lost, got \(value)")
            return ""
        } catch ClusterError.workerLost(_, let reason) {
            return reason
        }
    }

    // MARK: Heartbeats

    @Test func frozenWorkerIsLostAfterMissedHeartbeats() async throws {
        let clock = TestClock()
        let worker = try await ScriptedWorker()
        defer { worker.close() }
        let metrics = TestMetrics()
        var settings = WorkerConnection.Settings.onTestClock(clock)
        settings.metrics = metrics
        let (remote, peer) = try await connect(worker, settings: settings)
        let node = RemoteNode(connection: remote, deviceIndex: 0, name: "scripted/sim0")
        let (run, _) = try await startRun([1, 2, 3], on: node, at: peer)

        // The worker says nothing. Three of its 1 s intervals are allowed: the first two
        // ticks find it quiet but within bounds and send a heartbeat each.
        for tick in 1...2 {
            await clock.advance(toOffset: .seconds(tick) + .milliseconds(1))
            _ = try await peer.next(.heartbeat, "the client's heartbeat \(tick)")
        }
        await clock.advance(toOffset: .seconds(3) + .milliseconds(1))
        let reason = try await lossReason(of: run, "the run on a frozen worker")
        #expect(reason == "no heartbeat for 3.0 seconds")
        try await peer.waitForClose("a frozen worker")
        let labels = [("worker", worker.endpoint.description)]
        #expect(try metrics.expectCounter("fpgacluster_worker_heartbeats_missed_total", labels).totalValue == 1)
        #expect(try metrics.expectCounter("fpgacluster_worker_connections_lost_total", labels).totalValue == 1)
        #expect(try metrics.expectCounter("fpgacluster_worker_reconnects_total", labels).totalValue == 0)
    }

    @Test func workerThatKeepsTalkingStaysConnected() async throws {
        let clock = TestClock()
        let worker = try await ScriptedWorker()
        defer { worker.close() }
        let (remote, peer) = try await connect(worker, settings: WorkerConnection.Settings.onTestClock(clock))
        let node = RemoteNode(connection: remote, deviceIndex: 0, name: "scripted/sim0")

        // Nine ticks, three times the allowed silence, with a heartbeat and a result from
        // the worker in every interval: the result's return proves both were taken.
        for tick in 1...9 {
            let input = [UInt8(tick)]
            let (run, frame) = try await startRun(input, on: node, at: peer)
            try await peer.send(.heartbeat(Heartbeat(timestampMilliseconds: UInt64(tick))))
            try await peer.send(try .result(id: frame.header.requestID, .success, payload: input[...]))
            #expect(try await outcome(of: run, "run \(tick)") == input[...])
            await clock.advance(toOffset: .seconds(tick) + .milliseconds(1))
            _ = try await peer.next(.heartbeat, "the client's heartbeat \(tick)")
        }
        let (run, frame) = try await startRun([42], on: node, at: peer)
        try await peer.send(try .result(id: frame.header.requestID, .success, payload: [42]))
        #expect(try await outcome(of: run, "the last run") == [42])
    }

    // MARK: Run deadline

    @Test func runPastItsDeadlineLosesTheWorker() async throws {
        let clock = TestClock()
        let worker = try await ScriptedWorker()
        defer { worker.close() }
        var settings = WorkerConnection.Settings.onTestClock(clock)
        settings.runDeadline = .milliseconds(2500)
        settings.missedHeartbeats = 10
        let (remote, peer) = try await connect(worker, settings: settings)
        let node = RemoteNode(connection: remote, deviceIndex: 0, name: "scripted/sim0")

        // A run answered 2.4 s after it started is within its deadline...
        let (first, firstFrame) = try await startRun([1], on: node, at: peer)
        await clock.advance(toOffset: .milliseconds(2400))
        try await peer.send(try .result(id: firstFrame.header.requestID, .success, payload: [1]))
        #expect(try await outcome(of: first, "the run answered in time") == [1])

        // ...one started then and left unanswered for 2.5 s loses the worker.
        let (second, _) = try await startRun([2], on: node, at: peer)
        await clock.advance(toOffset: .milliseconds(4901))
        let reason = try await lossReason(of: second, "the run past its deadline")
        #expect(reason == "a run took longer than 2.5 seconds")
        try await peer.waitForClose("a run past its deadline")
    }

    // MARK: Connecting

    @Test func handshakeThatNeverAnswersTimesOut() async throws {
        let clock = TestClock()
        let worker = try await ScriptedWorker()
        defer { worker.close() }
        var settings = WorkerConnection.Settings.onTestClock(clock)
        settings.connectTimeout = .seconds(5)
        let remote = WorkerConnection(endpoint: worker.endpoint, token: nil, settings: settings)
        let connecting = Task { try await remote.connect() }
        let peer = try await worker.accept("the connection that is never answered")
        // The HELLO proves the client's deadlines were fixed.
        _ = try await peer.next(.hello, "HELLO")
        await clock.advance(toOffset: .seconds(5) + .milliseconds(1))
        do {
            let welcome = try await outcome(of: connecting, "connect() to time out")
            Issue.record("connect() returned \(welcome) from a worker that never answered")
        } catch let error as TransportError {
            guard case .timedOut = error else {
                Issue.record("expected a timeout, got \(error)")
                return
            }
        }
        try await peer.waitForClose("a handshake past its deadline")
    }

    // MARK: Reconnecting

    /// Connects, then loses the connection (the worker drops it under a run): the loss,
    /// at the clock's start, is where the backoff schedule counts from.
    private func connectAndLose(
        _ worker: ScriptedWorker, settings: WorkerConnection.Settings
    ) async throws -> (WorkerConnection, RemoteNode) {
        let (remote, peer) = try await connect(worker, settings: settings)
        let node = RemoteNode(connection: remote, deviceIndex: 0, name: "scripted/sim0")
        let (run, _) = try await startRun([1], on: node, at: peer)
        peer.close()
        _ = try await lossReason(of: run, "the run on a dropped connection")
        return (remote, node)
    }

    @Test func reconnectBacksOffUntilItsBudgetRunsOut() async throws {
        let clock = TestClock()
        let worker = try await ScriptedWorker()
        defer { worker.close() }
        // Delays 1, 2, 4 (then 4) s within a 10 s budget: attempts at 1, 3 and 7 s; the
        // next would start at 11 s, past the budget.
        let (remote, _) = try await connectAndLose(worker, settings: WorkerConnection.Settings.onTestClock(clock))
        let reconnecting = Task { try await remote.reconnect() }
        for (attempt, start) in [(1, 1), (2, 3), (3, 7)] {
            #expect(worker.connectionCount == attempt, "an attempt started before the clock reached \(start) s")
            await clock.advance(toOffset: .seconds(start) + .milliseconds(1))
            let peer = try await worker.accept("reconnection attempt \(attempt)")
            peer.close()
        }
        let reason = try await lossReason(of: reconnecting, "reconnect() to give up")
        #expect(reason.hasSuffix("(3 reconnection attempts)"), "\(reason)")
        #expect(worker.connectionCount == 4)
    }

    @Test func reconnectSucceedsOnALaterAttempt() async throws {
        let clock = TestClock()
        let worker = try await ScriptedWorker()
        defer { worker.close() }
        let metrics = TestMetrics()
        var settings = WorkerConnection.Settings.onTestClock(clock)
        settings.metrics = metrics
        let (remote, node) = try await connectAndLose(worker, settings: settings)
        let reconnecting = Task { try await remote.reconnect() }
        await clock.advance(toOffset: .seconds(1) + .milliseconds(1))
        try await worker.accept("reconnection attempt 1").close()
        #expect(worker.connectionCount == 2, "attempt 2 started before the clock reached 3 s")
        await clock.advance(toOffset: .seconds(3) + .milliseconds(1))
        let peer = try await worker.acceptAndWelcome("reconnection attempt 2")
        try await outcome(of: reconnecting, "reconnect() to succeed")

        let (run, frame) = try await startRun([7], on: node, at: peer)
        try await peer.send(try .result(id: frame.header.requestID, .success, payload: [7]))
        #expect(try await outcome(of: run, "a run after reconnecting") == [7])
        // One loss (the dropped connection; the failed attempt never had a session), one
        // reconnection, and no heartbeat ever missed.
        let labels = [("worker", worker.endpoint.description)]
        #expect(try metrics.expectCounter("fpgacluster_worker_connections_lost_total", labels).totalValue == 1)
        #expect(try metrics.expectCounter("fpgacluster_worker_reconnects_total", labels).totalValue == 1)
        #expect(try metrics.expectCounter("fpgacluster_worker_heartbeats_missed_total", labels).totalValue == 0)
    }
}
