import Clocks
import FPGACluster
import FPGAJobs
import FPGATestSupport
import FPGATestSync
import FPGATransport
import Testing

/// STATUS against a real ``WorkerServer`` in this process: what a worker reports after
/// running jobs, through ``WorkerConnection``, ``RemoteNode`` and ``Cluster``.
@Suite("STATUS against an in-process WorkerServer", .timeLimit(stuckTestLimit))
struct StatusInProcessTests {
    /// Lines of text that gzip shrinks.
    let input = ArraySlice(Array(repeating: Array("the same line\n".utf8), count: 4000).joined())

    @Test func statusAfterAJobCountsItsRunsAndBytes() async throws {
        try await InProcessServer.with { server in
            let remote = WorkerConnection(endpoint: server.endpoint, token: nil, settings: .onTestClock(TestClock()))
            _ = try await withDeadline(stuckWaitLimit, "connect()") { try await remote.connect() }
            let before = try await withDeadline(stuckWaitLimit, "the first status") { try await remote.status() }
            #expect(before.map(\.device) == ["sim0"])
            #expect(before.first?.completed == 0)
            #expect(before.first?.program == nil)

            let node = RemoteNode(connection: remote, deviceIndex: 0, name: "\(server.endpoint)/sim0")
            var outputBytes = 0
            for _ in 0..<3 {
                let member = try await withDeadline(stuckWaitLimit, "a gzip run") {
                    try await node.run(GzipCompressionJob(chunkSize: 1 << 20), input)
                }
                outputBytes += member.count
            }
            let statuses = try await withDeadline(stuckWaitLimit, "the status after the job") {
                try await remote.status()
            }
            let status = try #require(statuses.first)
            #expect(statuses.count == 1)
            // The host is the address this client reached, not the worker's own id.
            #expect(status.host == server.endpoint.description)
            #expect(status.device == "sim0")
            #expect(status.kind == "simulated")
            #expect(status.program == "gzip")
            #expect(status.computeUnits >= 1)
            #expect(status.completed == 3)
            #expect(status.failed == 0)
            #expect(status.inputBytes == UInt64(3 * input.count))
            #expect(status.outputBytes == UInt64(outputBytes))
            #expect(status.running == 0 && status.queued == 0)
            #expect(status.problem == nil)
            // The server's node runs on the real clock: at most 300 samples, each busy 0...1.
            #expect(status.history.count <= StatusReport.maxSamples)
            #expect(status.history.allSatisfy { (0...1).contains($0.busy) })

            // RemoteNode.status() is the same row.
            let row = await node.status()
            #expect(row.completed == 3 && row.inputBytes == status.inputBytes && row.problem == nil)
            await remote.disconnect()
        }
    }

    @Test func clusterStatusListsEveryRemoteDevice() async throws {
        try await InProcessServer.with { server in
            let configuration = Cluster.Configuration(chunkSize: 16 << 10, connection: .onTestClock(TestClock()))
            let cluster = try await withDeadline(stuckWaitLimit, "the cluster to connect") {
                try await Cluster(workers: ["\(server.endpoint)"], token: nil, configuration: configuration)
            }
            let inputs = (0..<4).map { _ in input }
            let outputs = try await withDeadline(stuckWaitLimit, "the job") {
                try await cluster.map(GzipCompressionJob(chunkSize: 1 << 20), inputs: inputs)
            }
            #expect(outputs.count == 4)
            let statuses = try await withDeadline(stuckWaitLimit, "cluster.status()") { await cluster.status() }
            #expect(statuses.map(\.device) == ["sim0"])
            #expect(statuses.map(\.host) == [server.endpoint.description])
            #expect(statuses.first?.completed == 4)
            #expect(statuses.first?.inputBytes == UInt64(4 * input.count))
            #expect(statuses.first?.problem == nil)
        }
    }

    @Test func anUnreachableWorkerIsARowWithAProblem() async throws {
        // A worker that was reached, then went away: its row keeps the WELCOME's facts.
        let (endpoint, remote) = try await InProcessServer.with { server in
            let remote = WorkerConnection(endpoint: server.endpoint, token: nil, settings: .onTestClock(TestClock()))
            _ = try await withDeadline(stuckWaitLimit, "connect()") { try await remote.connect() }
            return (server.endpoint, remote)
        }
        let node = RemoteNode(connection: remote, deviceIndex: 0, name: "\(endpoint)/sim0")
        let row = try await withDeadline(stuckWaitLimit, "the status of a stopped worker") { await node.status() }
        #expect(row.host == endpoint.description)
        #expect(row.device == "sim0")
        #expect(row.kind == "simulated")
        let problem = try #require(row.problem)
        #expect(problem.hasPrefix("unreachable: "))
        #expect(!problem.contains("\n"))

        // A worker never reached at all: no WELCOME, still a row.
        let never = WorkerConnection(endpoint: endpoint, token: nil, settings: .onTestClock(TestClock()))
        let unknown = await RemoteNode(connection: never, deviceIndex: 0, name: "\(endpoint)/sim0").status()
        #expect(unknown.device == "sim0" && unknown.kind == "unknown")
        #expect(unknown.problem == "unreachable: worker \(endpoint) lost: not connected")
        await #expect(throws: ClusterError.self) { _ = try await never.status() }
    }
}

/// A STATUS is answered while the connection's runs fill every slot of the device: the
/// worker reads on behind the one RUN that waits for a slot, and stops at the next.
@Suite("STATUS behind held runs", .timeLimit(stuckTestLimit))
struct StatusBehindHeldRunsTests {
    @Test func statusIsAnsweredWhileARunWaitsForASlot() async throws {
        try await InProcessServer.with { server in
            let client = try await ScriptedClient.connect(to: server.endpoint)
            defer { client.close() }
            let welcome = try await client.handshake()
            let capacity = Int(try #require(welcome.devices.first).capacity)
            // Every slot held at the gate, then one more RUN that must wait for a slot.
            for id in 1...UInt64(capacity + 1) {
                try await client.send(
                    try .run(id: id, RunRequest(deviceIndex: 0, jobKind: HeldRuns.kind), payload: [1]))
            }
            try await server.held.waitForStarts(capacity)
            try await client.send(try .status(id: 100))
            let frame = try await client.next(.statusReport, "the STATUS_REPORT while every slot is held")
            #expect(frame.header.requestID == 100)
            guard case .statusReport(let report) = try frame.decodeMessage() else {
                throw TestFailure("STATUS_REPORT undecodable")
            }
            #expect(report.devices.map(\.name) == ["sim0"])

            // The waiting RUN can be cancelled: it never ran.
            try await client.send(try .cancel(id: UInt64(capacity + 1)))
            let cancelled = try await client.next(.result, "the RESULT of the cancelled RUN")
            #expect(cancelled.header.requestID == UInt64(capacity + 1))
            #expect(
                try cancelled.decodeMessage()
                    == .result(.failure(code: .cancelled, message: "cancelled before it started"), payload: []))

            // The held runs finish once the gate opens; nothing else is answered.
            server.held.gate.open()
            var finished: Set<UInt64> = []
            for _ in 1...capacity {
                let result = try await client.next(.result, "the RESULTs of the held runs")
                #expect(try result.decodeMessage() == .result(.success, payload: [1]))
                finished.insert(result.header.requestID)
            }
            #expect(finished == Set(1...UInt64(capacity)))
        }
    }
}
