import Clocks
import FPGATestSync
import FPGATransport
import FPGAWorkerServer
import MetricsTestKit
import Testing

/// A worker server's sessions with time in the test's hands: its clock moves only when
/// the test advances it, and every assertion is on frames received or the connection
/// closing, never on how long anything took.
@Suite("WorkerServer sessions on a test clock", .timeLimit(stuckTestLimit))
struct ServerSessionClockTests {
    // MARK: Handshake deadline

    @Test func handshakeFinishedBeforeItsDeadlineIsServed() async throws {
        try await InProcessServer.with { server in
            let client = try await ScriptedClient.connect(to: server.endpoint)
            defer { client.close() }
            try await client.hello()
            await server.clock.advance(toOffset: .seconds(5) - .milliseconds(1))
            let welcome = try await client.auth()
            #expect(welcome.devices.map(\.name) == ["sim0"])
            try await client.echo(id: 1)
        }
    }

    @Test func handshakeLeftUnfinishedTimesOutOnTheServersClock() async throws {
        let metrics = TestMetrics()
        let countingHandshakes: (inout WorkerServer.Configuration) -> Void = { $0.metrics = metrics }
        try await InProcessServer.with(configure: countingHandshakes) { server in
            let client = try await ScriptedClient.connect(to: server.endpoint)
            defer { client.close() }
            // The CHALLENGE proves the server's handshake, and its deadline, began.
            try await client.hello()
            await server.clock.advance(toOffset: .seconds(5) + .milliseconds(1))
            let messages = try await client.framesUntilClosed("a handshake past its deadline")
            #expect(messages.count == 1, "frames after the CHALLENGE: \(messages)")
            guard case .error(let error) = messages.first else {
                Issue.record("expected ERROR(timeout), got \(messages)")
                return
            }
            #expect(error.code == .timeout)
            // Counted once the session has seen its handshake fail (after the client saw the close).
            let counted = await eventually {
                let failures = try? metrics.expectCounter(
                    "fpgacluster_handshake_failures_total", [("reason", "timeout")])
                return failures?.totalValue == 1
            }
            #expect(counted, "fpgacluster_handshake_failures_total{reason=\"timeout\"} did not reach 1")
        }
    }

    // MARK: Heartbeats and silence

    @Test func silentClientIsClosedAfterMissedHeartbeats() async throws {
        try await InProcessServer.with { server in
            let client = try await ScriptedClient.connect(to: server.endpoint)
            defer { client.close() }
            _ = try await client.handshake()
            // Three 1 s heartbeats of silence allowed: the first two ticks find the
            // client quiet but within bounds, and send a heartbeat each.
            for tick in 1...2 {
                await server.clock.advance(toOffset: .seconds(tick) + .milliseconds(1))
                _ = try await client.next(.heartbeat, "the server's heartbeat \(tick)")
            }
            await server.clock.advance(toOffset: .seconds(3) + .milliseconds(1))
            let messages = try await client.framesUntilClosed("a client silent for 3 heartbeats")
            guard case .error(let error) = messages.last else {
                Issue.record("expected ERROR(timeout) before the close, got \(messages)")
                return
            }
            #expect(error.code == .timeout)
        }
    }

    @Test func clientThatKeepsSendingStaysConnected() async throws {
        try await InProcessServer.with { server in
            let client = try await ScriptedClient.connect(to: server.endpoint)
            defer { client.close() }
            _ = try await client.handshake()
            // Nine ticks, three times the allowed silence: a frame in every interval.
            for tick in 1...9 {
                try await client.echo(id: UInt64(tick))
                await server.clock.advance(toOffset: .seconds(tick) + .milliseconds(1))
                _ = try await client.next(.heartbeat, "the server's heartbeat \(tick)")
            }
            try await client.echo(id: 10)
        }
    }

    // MARK: Shutdown

    @Test func shutdownLetsRunsInFlightFinish() async throws {
        try await InProcessServer.with { server in
            let client = try await ScriptedClient.connect(to: server.endpoint)
            defer { client.close() }
            _ = try await client.handshake()
            try await client.send(try .run(id: 1, RunRequest(deviceIndex: 0, jobKind: HeldRuns.kind), payload: [1, 2]))
            try await server.held.waitForStarts(1)

            let shutdown = Task { await server.server.shutdown() }
            let goodbye = try await client.next(.goodbye, "GOODBYE")
            #expect(
                try goodbye.decodeMessage() == .goodbye(Goodbye(reason: .shuttingDown, message: "worker shutting down"))
            )
            // New runs are handed back; the one in flight goes on.
            try await client.send(try .run(id: 2, RunRequest(deviceIndex: 0, jobKind: "echo"), payload: [3]))
            let refused = try await client.next(.result, "the RESULT refusing run 2")
            #expect(refused.header.requestID == 2)
            guard case .result(.failure(let code, _), _) = try refused.decodeMessage() else {
                Issue.record("run 2 was not refused: \(try refused.decodeMessage())")
                return
            }
            #expect(code == .shuttingDown)

            server.held.gate.open()
            let messages = try await client.framesUntilClosed("shutdown after the last run")
            #expect(messages == [.result(.success, payload: [1, 2])])
            try await withDeadline(stuckWaitLimit, "shutdown() to return") { await shutdown.value }
        }
    }

    @Test func shutdownGraceEndsRunsThatDoNotFinish() async throws {
        try await InProcessServer.with { server in
            let client = try await ScriptedClient.connect(to: server.endpoint)
            defer { client.close() }
            _ = try await client.handshake()
            try await client.send(try .run(id: 1, RunRequest(deviceIndex: 0, jobKind: HeldRuns.kind), payload: [1]))
            try await server.held.waitForStarts(1)

            let shutdown = Task { await server.server.shutdown() }
            _ = try await client.next(.goodbye, "GOODBYE")
            // The grace (2 s) was fixed before the GOODBYE went out; the held run never ends.
            await server.clock.advance(toOffset: .seconds(2) + .milliseconds(1))
            let messages = try await client.framesUntilClosed("shutdown at the end of its grace")
            #expect(messages.isEmpty, "frames after GOODBYE: \(messages)")
            try await withDeadline(stuckWaitLimit, "shutdown() to return") { await shutdown.value }
            #expect(!server.held.gate.isOpen)
        }
    }
}
