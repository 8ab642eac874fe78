import Clocks
import FPGACluster
import FPGADevice
import FPGATestSupport
import FPGATestSync
import FPGATransport
import Testing

/// A ``WorkerConnection`` against a real ``WorkerServer`` in the same process, each on a test
/// clock of its own: the server's never moves, so it never sends a heartbeat and the
/// client, whose clock the test advances, must find it frozen.
@Suite("WorkerConnection against an in-process WorkerServer", .timeLimit(stuckTestLimit))
struct WorkerConnectionInProcessTests {
    @Test func runsThenLosesAFrozenServerAndReconnects() async throws {
        try await InProcessServer.with { server in
            let clock = TestClock()
            var settings = WorkerConnection.Settings.onTestClock(clock)
            settings.reconnectDelays = [.seconds(1)]
            let remote = WorkerConnection(endpoint: server.endpoint, token: nil, settings: settings)
            let welcome = try await withDeadline(stuckWaitLimit, "connect() to the in-process worker") {
                try await remote.connect()
            }
            #expect(welcome.devices.map(\.name) == ["sim0"])
            let node = RemoteNode(connection: remote, deviceIndex: 0, name: "\(server.endpoint)/sim0")

            // Gzip on the simulated device, through the wire.
            let input = ArraySlice(Array(repeating: Array("the same line\n".utf8), count: 1000).joined())
            let member = try await withDeadline(stuckWaitLimit, "a gzip run") {
                try await node.run(GzipCompressionJob(chunkSize: 1 << 20), input)
            }
            #expect(member.prefix(2).elementsEqual([0x1f, 0x8b]))
            #expect(member.count < input.count)

            // A run the server holds; the server's clock stands still, so no heartbeat
            // comes. One jump of the client's clock past three intervals still checks each.
            let held = Task { try await node.run(HoldJob(), [9]) }
            try await server.held.waitForStarts(1)
            await clock.advance(toOffset: .seconds(3) + .milliseconds(1))
            do {
                let value = try await withDeadline(stuckWaitLimit, "the held run to fail") { try await held.value }
                Issue.record("the held run returned \(value) from a frozen worker")
            } catch ClusterError.workerLost(_, let reason) {
                #expect(reason == "no heartbeat for 3.0 seconds")
            }

            // Lost at the 3 s tick: the first attempt starts at 4 s, and the server
            // (its handshake needs no clock) takes it.
            let reconnecting = Task { try await remote.reconnect() }
            await clock.advance(toOffset: .seconds(4) + .milliseconds(1))
            try await withDeadline(stuckWaitLimit, "reconnect() to the in-process worker") {
                try await reconnecting.value
            }
            let echoed = try await withDeadline(stuckWaitLimit, "an echo after reconnecting") {
                try await node.run(EchoJob(), [1, 2, 3])
            }
            #expect(echoed == [1, 2, 3])
        }
    }
}

/// The WELCOME announces each program's capacity (what its driver takes); a remote node
/// keeps that many in flight plus one crossing the wire, and refuses a job with no codec.
@Suite("capacities announced per program", .timeLimit(stuckTestLimit))
struct AnnouncedCapacityTests {
    @Test func theWelcomeAnnouncesEachProgramsCapacity() async throws {
        try await InProcessServer.with { server in
            let remote = WorkerConnection(
                endpoint: server.endpoint, token: nil, settings: .onTestClock(TestClock()))
            let welcome = try await withDeadline(stuckWaitLimit, "connect() to the in-process worker") {
                try await remote.connect()
            }
            let device = try #require(welcome.devices.first)
            let capacities = Dictionary(uniqueKeysWithValues: device.programs.map { ($0.name, $0.capacity) })
            #expect(capacities == ["gzip": 6, "echo": 4])
            #expect(device.capacity == 7)
            let node = RemoteNode(connection: remote, deviceIndex: 0, name: "\(server.endpoint)/sim0")
            #expect(try await node.capacity(for: GzipCompressionJob(chunkSize: 4096)) == 7)
            #expect(try await node.capacity(for: EchoJob()) == 5)
            await #expect(throws: NodeError.notRemotable("\(LocalOnlyGzipJob.self)")) {
                _ = try await node.capacity(for: LocalOnlyGzipJob())
            }
            await #expect(throws: NodeError.self) {
                _ = try await node.capacity(for: ClassificationJob(program: "cnv-0123456789abcdef", batchSize: 4))
            }
            await remote.disconnect()
        }
    }
}

/// The client's side of the server's `hold` job: its input comes back once the test
/// opens the gate.
struct HoldJob: RemoteJob {
    typealias Input = ArraySlice<UInt8>
    typealias Output = ArraySlice<UInt8>

    static let kind = HeldRuns.kind
    var program: String { EchoJob.kind }
    var driverKey: String { Self.kind }

    init() {}
    init(parameters reader: inout WireReader) {}
    func encodeParameters(into writer: inout WireWriter) {}

    func makeDriver(on device: any Device) async throws -> any JobDriver<Input, Output> {
        throw NodeError.programUnavailable(Self.kind, node: device.info.name)
    }
}
