import Clocks
import FPGACluster
import FPGAJobs
import FPGATestSupport
import FPGATestSync
import FPGATransport
import Testing

/// STATUS from the client's side, against a worker the test plays frame by frame on a
/// test clock: request ids, the host the client names, and the deadline.
@Suite("WorkerConnection.status() on a test clock", .timeLimit(stuckTestLimit))
struct WorkerConnectionStatusTests {
    private func connect(
        _ worker: ScriptedWorker, settings: WorkerConnection.Settings
    ) async throws -> (WorkerConnection, WorkerPeer) {
        let remote = WorkerConnection(endpoint: worker.endpoint, token: nil, settings: settings)
        let connecting = Task { try await remote.connect() }
        let peer = try await worker.acceptAndWelcome("the first connection")
        _ = try await outcome(of: connecting, "connect() to return")
        return (remote, peer)
    }

    let report = StatusReport(devices: [
        StatusReport.Device(
            index: 0, name: "sim0", kind: "simulated", program: "echo", computeUnits: 0, running: 1, queued: 2,
            completed: 10, failed: 1, inputBytes: 4096, outputBytes: 4096, busyNanoseconds: 1_500_000_000,
            history: [StatusReport.Sample(inputBytes: 1024, outputBytes: 1024, completed: 2, busy: 2500)])
    ])

    @Test func theReportWithTheRequestsIDAnswersIt() async throws {
        let worker = try await ScriptedWorker()
        defer { worker.close() }
        let (remote, peer) = try await connect(worker, settings: .onTestClock(TestClock()))
        let asking = Task { try await remote.status() }
        let request = try await peer.next(.status, "the STATUS")
        #expect(request.header.requestID != 0)
        #expect(request.body.isEmpty)
        // A report for another request is not this one's answer.
        var other = report
        other.devices[0].completed = 999
        try await peer.send(try .statusReport(id: request.header.requestID + 100, other))
        try await peer.send(try .statusReport(id: request.header.requestID, report))
        let statuses = try await outcome(of: asking, "status() to return")
        let status = try #require(statuses.first)
        #expect(statuses.count == 1)
        #expect(status.host == worker.endpoint.description)
        #expect(status.completed == 10 && status.failed == 1 && status.running == 1 && status.queued == 2)
        #expect(status.busySeconds == 1.5)
        #expect(
            status.history == [ActivityHistory.Sample(inputBytes: 1024, outputBytes: 1024, completed: 2, busy: 0.25)])
        await remote.disconnect()
    }

    @Test func aWorkerThatDoesNotAnswerTimesOutAsAProblem() async throws {
        let clock = TestClock()
        let worker = try await ScriptedWorker()
        defer { worker.close() }
        var settings = WorkerConnection.Settings.onTestClock(clock)
        // Shorter than the 3 s of silence that would lose the worker.
        settings.connectTimeout = .seconds(2)
        let (remote, peer) = try await connect(worker, settings: settings)
        let node = RemoteNode(connection: remote, deviceIndex: 0, name: "\(worker.endpoint)/sim0")
        let asking = Task { await node.status() }
        let request = try await peer.next(.status, "the STATUS")
        await clock.advance(toOffset: .seconds(2) + .milliseconds(1))
        let row = try await withDeadline(stuckWaitLimit, "the row of a silent worker") { await asking.value }
        #expect(row.host == worker.endpoint.description)
        #expect(row.device == "sim0" && row.kind == "simulated")
        #expect(row.problem == "timed out: no status report from \(worker.endpoint) within 2.0 seconds")
        #expect(row.completed == 0)

        // The connection stays: a late report is dropped, the next STATUS is answered.
        try await peer.send(try .statusReport(id: request.header.requestID, report))
        let again = Task { try await remote.status() }
        let second = try await peer.next(.status, "the second STATUS")
        #expect(second.header.requestID != request.header.requestID)
        try await peer.send(try .statusReport(id: second.header.requestID, report))
        #expect(try await outcome(of: again, "the second status()").first?.completed == 10)
        await remote.disconnect()
    }

    @Test func aLostConnectionFailsTheStatusAtOnce() async throws {
        let worker = try await ScriptedWorker()
        defer { worker.close() }
        let (remote, peer) = try await connect(worker, settings: .onTestClock(TestClock()))
        let asking = Task { try await remote.status() }
        _ = try await peer.next(.status, "the STATUS")
        peer.close()
        do {
            let statuses = try await outcome(of: asking, "status() to fail")
            Issue.record("a dropped connection answered \(statuses)")
        } catch ClusterError.workerLost(let name, _) {
            #expect(name == worker.endpoint.description)
        }
    }
}
