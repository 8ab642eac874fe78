import FPGACluster
import FPGADevice
import FPGAKernels
import FPGATestSupport
import FPGATestSync
import FPGATransport
import FPGAWorkerServer
import Logging
import Testing

@Suite("WorkerServer start and stop", .timeLimit(stuckTestLimit))
struct WorkerServerLifecycleTests {
    /// A shutdown that comes before the server listens (a supervisor's SIGTERM during
    /// start-up) is not forgotten: serve() returns instead of serving forever.
    @Test func aShutdownBeforeListeningEndsServe() async throws {
        let node = LocalNode(
            device: SimulatedDevice(name: "sim0", kernels: [GzipCompBlockKernel()]), programs: .builtIn)
        let server = WorkerServer(
            nodes: [node], token: nil, logger: Logger(label: "test-worker") { _ in SwiftLogNoOpLogHandler() })
        await server.shutdown()
        let endpoint = try await server.listen(on: Endpoint(host: "127.0.0.1", port: 0))
        #expect(endpoint.port != 0)
        // The serve task ending is the event; the suite's time limit ends a serve that never returns.
        await server.serve()
        await #expect(throws: (any Error).self) {
            _ = try await TCPConnection.connect(to: endpoint, timeout: stuckWaitLimit)
        }
    }
}
