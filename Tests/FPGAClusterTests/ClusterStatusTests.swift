import FPGACluster
import FPGATestSupport
import FPGATestSync
import Testing

/// `Cluster.status()` lists every node's device, in the cluster's order, with what its
/// runs added up to.
@Suite("cluster status", .timeLimit(stuckTestLimit))
struct ClusterStatusTests {
    @Test func theStatusOfEveryNodeAddsUpToTheJob() async throws {
        let cluster = try Cluster(
            devices: .simulated(count: 2), configuration: Cluster.Configuration(chunkSize: 64 << 10))
        let before = await cluster.status()
        #expect(before.map(\.device) == cluster.nodes.map(\.name))
        #expect(before.allSatisfy { $0.completed == 0 && $0.program == nil && $0.problem == nil })

        let input = TestData.logLines(count: 40_000, seed: 7)
        _ = try await cluster.compress(input)
        let after = await cluster.status()
        let chunks = (input.count + (64 << 10) - 1) / (64 << 10)
        #expect(after.reduce(0) { $0 + $1.completed } == UInt64(chunks))
        #expect(after.reduce(0) { $0 + $1.inputBytes } == UInt64(input.count))
        #expect(after.allSatisfy { $0.program == "gzip" && $0.running == 0 && $0.queued == 0 })
        #expect(after.allSatisfy { $0.host == LocalNode.hostName })
    }
}
