import FPGACluster
import FPGATestSupport
import FPGATransport
import Testing

/// `--workers` in all its forms: addresses, hostfiles, Slurm allocations, each worker once.
@Suite("worker lists")
struct WorkerListTests {
    static func resolve(_ text: String, environment: [String: String] = [:]) async throws -> [String] {
        try await WorkerList(parsing: text).resolve(environment: environment).map(\.description)
    }

    @Test func addressesGetTheDefaultPortWhenTheyNameNone() async throws {
        #expect(
            try await Self.resolve("hostA, hostB:7071,[::1],[fe80::1]:9000,10.0.0.7") == [
                "hostA:7070", "hostB:7071", "[::1]:7070", "[fe80::1]:9000", "10.0.0.7:7070",
            ])
        let list = try WorkerList(parsing: "hostA", defaultPort: 9999)
        #expect(try await list.resolve(environment: [:]).map(\.description) == ["hostA:9999"])
    }

    @Test func badEntriesAreRefusedWithTheReason() {
        #expect(throws: WorkerDiscoveryError.invalidEntry("hostA:http", reason: "'http' is not a port (1 to 65535)")) {
            try WorkerList(parsing: "hostA:http")
        }
        #expect(
            throws: WorkerDiscoveryError.invalidEntry("::1:7070", reason: "put an IPv6 address in brackets: [::1]:7070")
        ) { try WorkerList(parsing: "::1:7070") }
        #expect(throws: WorkerDiscoveryError.invalidEntry("dns:", reason: "use dns:NAME or dns:NAME:PORT")) {
            try WorkerList(parsing: "dns:")
        }
        #expect(throws: WorkerDiscoveryError.noWorkers(" , ")) { try WorkerList(parsing: " , ") }
        #expect(throws: WorkerDiscoveryError.invalidEntry("@", reason: "@ needs a file name")) {
            try WorkerList(parsing: "@")
        }
    }

    @Test func aHostfileSkipsCommentsAndBlankLinesAndDuplicates() async throws {
        let directory = try TemporaryDirectory("hostfile")
        defer { directory.remove() }
        try directory.write(
            "hosts",
            Array(
                """
                # the workers of rack 1
                node1

                node2:7071   # a second worker on another port
                  node1
                [::1]:7072
                """.utf8))
        #expect(
            try await Self.resolve("@\(directory.file("hosts")),node2:7071,node3") == [
                "node1:7070", "node2:7071", "[::1]:7072", "node3:7070",
            ])
    }

    @Test func aBadHostfileLineIsNamedByItsNumber() async throws {
        let directory = try TemporaryDirectory("hostfile")
        defer { directory.remove() }
        try directory.write("hosts", Array("node1\n# fine\nnode2 node3\n".utf8))
        try directory.write("ports", Array("node1\n\nnode2:99999\n".utf8))
        let path = directory.file("hosts")
        await #expect(
            throws: WorkerDiscoveryError.invalidHostfileLine(
                path: path, line: 3, text: "node2 node3", reason: "one worker per line")
        ) { _ = try await Self.resolve("@" + path) }
        let error = await #expect(throws: WorkerDiscoveryError.self) {
            _ = try await Self.resolve("@" + directory.file("ports"))
        }
        #expect(
            error?.description
                == "\(directory.file("ports")):3: bad worker 'node2:99999': '99999' is not a port (1 to 65535)")
        await #expect(
            throws: WorkerDiscoveryError.unreadableHostfile(path: directory.file("missing"), reason: "no such file")
        ) { _ = try await Self.resolve("@" + directory.file("missing")) }
    }

    /// A hostfile written on Windows (CRLF line ends) reads like any other; a folder named
    /// as a hostfile is the system's reason, not a crash.
    @Test func aHostfileWithCRLFLineEndsReadsAndAFolderIsRefused() async throws {
        let directory = try TemporaryDirectory("hostfile")
        defer { directory.remove() }
        try directory.write("hosts", Array("node1\r\n# rack 2\r\nnode2:7071\r\n".utf8))
        #expect(try await Self.resolve("@" + directory.file("hosts")) == ["node1:7070", "node2:7071"])
        await #expect(
            throws: WorkerDiscoveryError.unreadableHostfile(path: directory.path, reason: "Is a directory")
        ) { _ = try await Self.resolve("@" + directory.path) }
    }

    @Test func slurmGivesTheNodesOfTheJob() async throws {
        let environment = ["SLURM_JOB_NODELIST": "fpga[01-03],login"]
        #expect(
            try await Self.resolve("slurm", environment: environment) == [
                "fpga01:7070", "fpga02:7070", "fpga03:7070", "login:7070",
            ])
        #expect(try await Self.resolve("slurm:7100", environment: environment).first == "fpga01:7100")
        await #expect(throws: WorkerDiscoveryError.notInSlurmJob) { _ = try await Self.resolve("slurm") }
    }
}
