import FPGATestSupport
import FPGATestSync
import Testing

/// `fpga-compress --workers` with a hostfile and with a DNS name served by a real dnsmasq:
/// the tool finds the workers, runs on them, and names what is wrong in one line otherwise.
@Suite("worker discovery in fpga-compress", .serialized, .timeLimit(stuckTestLimit))
struct WorkerDiscoveryCommandTests {
    static let data = TestData.logLines(count: 300_000, seed: 21)
    static let compress = WorkerProcess.executable("fpga-compress")

    static func port(of worker: WorkerProcess) -> String {
        String(worker.address.split(separator: ":").last!)
    }

    @Test func aHostfileNamesTheWorkers() async throws {
        let one = try await startWorker()
        let two = try await startWorker()
        defer {
            one.stop()
            two.stop()
        }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("log", Self.data)
        try folder.write(
            "hosts", Array("# two workers\n\(one.address)\n\n\(two.address)  # the second\n\(one.address)\n".utf8))
        let result = try await ExternalTools.run([
            Self.compress, "--workers", "@" + folder.file("hosts"), folder.file("log"),
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("\(one.address)/sim0="), "\(result.error)")
        #expect(result.error.contains("\(two.address)/sim0="), "\(result.error)")
        #expect(try await ExternalTools.gzipDecompress(try folder.read("log.gz")) == Self.data)

        try folder.write("bad", Array("\(one.address)\nnode2:http\n".utf8))
        let bad = try await ExternalTools.run([
            Self.compress, "--workers", "@" + folder.file("bad"), "-f", folder.file("log"),
        ])
        #expect(bad.status == 1)
        #expect(
            bad.error
                == "fpga-compress: \(folder.file("bad")):2: bad worker 'node2:http': 'http' is not a port (1 to 65535)\n"
        )
    }

    @Test func aDNSNameNamesTheWorkers() async throws {
        let worker = try await startWorker(["--device", "sim", "--device", "sim"])
        defer { worker.stop() }
        let server = try await DNSServerProcess.start(records: [("workers.test", "127.0.0.1")])
        defer { server.stop() }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("log", Self.data)
        let dns = ["--dns-server", "127.0.0.1:\(server.port)"]
        let result = try await ExternalTools.run(
            [Self.compress, "--workers", "dns:workers.test:\(Self.port(of: worker))"] + dns + [folder.file("log")])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("127.0.0.1:\(Self.port(of: worker))/sim1="), "\(result.error)")
        #expect(try await ExternalTools.gzipDecompress(try folder.read("log.gz")) == Self.data)

        let missing = try await ExternalTools.run(
            [Self.compress, "--workers", "dns:nothing.test"] + dns + ["-f", folder.file("log")])
        #expect(missing.status == 1)
        #expect(missing.error == "fpga-compress: DNS name nothing.test has no A or AAAA records\n")
    }
}
