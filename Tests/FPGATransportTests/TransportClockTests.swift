import Clocks
import FPGATestSupport
import FPGATestSync
import FPGATransport
import Testing

/// Deadlines measured on an injected clock: a `TestClock` advanced by hand ends them, and
/// nothing else does. Every wait for an outcome is bounded on the real clock by a
/// generous watchdog that fails the test with a message.
@Suite("Deadlines on an injected clock", .timeLimit(stuckTestLimit))
struct TransportClockTests {
    @Test func withDeadlineReturnsTheResultWhileTheClockIsShortOfIt() async throws {
        let clock = TestClock()
        let gate = AsyncGate()
        let task = Task {
            try await withDeadline(.seconds(5), "the gated body", clock: clock) {
                try await gate.wait()
                return 42
            }
        }
        await clock.advance(to: .init(offset: .seconds(5) - .milliseconds(1)))
        gate.open()
        let value = try await outcome(of: task, "withDeadline's result")
        #expect(value == 42)
    }

    @Test func withDeadlineTimesOutOnceTheClockPassesIt() async throws {
        let clock = TestClock()
        let task = Task {
            try await withDeadline(.seconds(5), "the gated body", clock: clock) {
                try await AsyncGate().wait()
            }
        }
        await clock.advance(to: .init(offset: .seconds(5) + .milliseconds(1)))
        await #expect(throws: TransportError.timedOut("the gated body")) {
            try await outcome(of: task, "withDeadline to time out")
        }
    }

    @Test func aDeadlinePassedBeforeItsTimerRunsStillEndsTheWait() async throws {
        let clock = TestClock()
        let timeline = Timeline(clock: clock)
        // The clock is past the deadline before the wait starts: no advance will wake its
        // timer, which must see the deadline passed and end the wait on its own.
        await clock.advance(by: .seconds(10))
        await #expect(throws: TransportError.timedOut("late")) {
            try await withDeadline(stuckWaitLimit, "the late wait") {
                try await withDeadline(at: .seconds(5), on: timeline, "late") { try await AsyncGate().wait() }
            }
        }
    }

    @Test func timelineReadsTheInjectedClock() async throws {
        let clock = TestClock()
        await clock.advance(by: .seconds(3))
        let timeline = Timeline(clock: clock)
        #expect(timeline.now == .zero)
        await clock.advance(by: .milliseconds(1500))
        #expect(timeline.now == .milliseconds(1500))
    }

    /// The worker's handshake deadline runs on its clock: a client that sends HELLO and
    /// then stalls gets ERROR(timeout) once that clock passes the timeout.
    @Test func workerHandshakeTimesOutOnItsClock() async throws {
        let clock = TestClock()
        let listener = try await TCPListener.listen(on: Endpoint(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let client = try await TCPConnection.connect(to: listener.endpoint, timeout: stuckWaitLimit)
        defer { client.close() }
        let server = try await withDeadline(stuckWaitLimit, "the accepted connection") {
            var connections = listener.connections.makeAsyncIterator()
            guard let connection = await connections.next() else { throw TransportError.closed("listener ended") }
            return connection
        }
        defer { server.close() }
        let handshake = Task {
            try await Handshake.worker(server, token: nil, welcome: sampleWelcome, timeout: .seconds(5), clock: clock)
        }

        try await client.send(.hello(Hello(clientNonce: clientNonce, clientName: "stalls")))
        let challenge = try await withDeadline(stuckWaitLimit, "CHALLENGE") { try await client.receive() }
        #expect(challenge.header.type == .challenge)
        // The worker is now inside its handshake, whose deadline was fixed when it began.
        await clock.advance(to: .init(offset: .seconds(5) + .milliseconds(1)))

        let error = try await withDeadline(stuckWaitLimit, "ERROR after the handshake deadline") {
            try await client.receive()
        }
        guard case .error(let message) = try error.decodeMessage() else {
            Issue.record("expected ERROR, got \(error.header.type)")
            return
        }
        #expect(message.code == .timeout)
        await #expect(throws: TransportError.self) { try await outcome(of: handshake, "the worker's handshake") }
    }
}

/// The task's value, or a failure naming `what` if it takes more than ``stuckWaitLimit`` of real time.
private func outcome<T: Sendable>(of task: Task<T, any Error>, _ what: String) async throws -> T {
    try await withTaskCancellationHandler {
        try await withDeadline(stuckWaitLimit, what) { try await task.value }
    } onCancel: {
        task.cancel()
    }
}
