import FPGACluster
import FPGADrivers
import FPGATestSupport
import Testing

@Suite("compress round trips through every gzip reader")
struct CompressRoundTripTests {
    static let chunk = 4096

    enum Kind: String, CaseIterable, Sendable {
        case random, repetitive, log

        func bytes(_ count: Int) -> [UInt8] {
            switch self {
            case .random: TestData.random(count: count, seed: UInt64(count) + 1)
            case .repetitive: TestData.repetitive(count: count)
            case .log: TestData.logLines(count: count)
            }
        }
    }

    /// Empty, one byte, and sizes at and around chunk boundaries.
    static let sizes = [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk - 1, 2 * chunk, 2 * chunk + 1, 3 * chunk + 5]

    @Test(arguments: Kind.allCases, sizes)
    func roundTrip(kind: Kind, size: Int) async throws {
        let data = kind.bytes(size)
        let cluster = try Cluster(devices: .simulated(count: 2), configuration: .init(chunkSize: Self.chunk))
        let gz = try await cluster.compress(data)

        #expect(try await ExternalTools.gzipDecompress(gz) == data)
        #expect(try await ExternalTools.pythonDecompress(gz) == data)
        #expect(try ExternalTools.zlibDecompress(gz) == data)
        #expect(try await cluster.decompress(gz) == data)

        let index = try #require(try await GzipIndex.build(gz))
        #expect(index.members.count == max(1, (size + Self.chunk - 1) / Self.chunk))
        #expect(index.members.map(\.uncompressedSize).reduce(0, +) == size)
        #expect(index.members.allSatisfy { $0.uncompressedSize == Self.chunk || $0.number == index.members.count - 1 })
    }

    @Test func defaultChunkSizeOnMegabytes() async throws {
        let data = TestData.logLines(count: 5 << 20 | 12345)
        let cluster = try Cluster(devices: .simulated(count: 3))
        let gz = try await cluster.compress(data)
        #expect(try await ExternalTools.gzipDecompress(gz) == data)
        #expect(try await cluster.decompress(gz) == data)
        #expect(gz.count < data.count / 2, "log lines compress well")
        let index = try #require(try await GzipIndex.build(gz))
        let chunk = Cluster.Configuration.defaultChunkSize
        #expect(index.members.count == (data.count + chunk - 1) / chunk)
        #expect(index.members.count > 1, "the default chunk size splits megabytes")
    }

    @Test func repetitiveDataCompressesHard() async throws {
        let data = TestData.repetitive(count: 1 << 20)
        let cluster = try Cluster(devices: .simulated(count: 1), configuration: .init(chunkSize: 256 << 10))
        let gz = try await cluster.compress(data)
        #expect(gz.count < data.count / 50)
        #expect(try ExternalTools.zlibDecompress(gz) == data)
    }

    @Test func randomDataGrowsOnlySlightly() async throws {
        let data = TestData.random(count: 1 << 20)
        let cluster = try Cluster(devices: .simulated(count: 1), configuration: .init(chunkSize: 256 << 10))
        let gz = try await cluster.compress(data)
        #expect(gz.count <= data.count + data.count / 100)
        #expect(try await ExternalTools.gzipDecompress(gz) == data)
    }

    @Test func progressCountsEveryByteInOrder() async throws {
        let data = TestData.logLines(count: 40_000)
        let cluster = try Cluster(devices: .simulated(count: 2), configuration: .init(chunkSize: 4096))
        let seen = ProgressLog()
        _ = try await cluster.compress(data) { seen.record($0) }
        let reports = seen.all
        #expect(reports.count == 10)
        #expect(reports.map(\.chunksDone) == Array(1...10))
        #expect(reports.last?.bytesDone == data.count)
        #expect(reports.allSatisfy { $0.bytesTotal == data.count })
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.bytesDone < $1.bytesDone })
    }

    @Test func invalidChunkSizeIsRejected() {
        #expect(throws: ConfigurationError.invalidChunkSize(100, range: Cluster.Configuration.chunkSizeRange)) {
            try Cluster(devices: .simulated(count: 1), configuration: .init(chunkSize: 100))
        }
        #expect(throws: ClusterError.noDevices) { try Cluster(devices: []) }
    }
}
