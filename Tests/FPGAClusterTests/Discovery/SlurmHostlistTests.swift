import FPGACluster
import FPGATestSupport
import Testing

/// `SlurmHostlist.expand` against Slurm's own `scontrol show hostnames` (Debian's
/// slurm-client, run with a minimal configuration of its own): the same names in the same
/// order for every list scontrol accepts, and an error for the lists it rejects.
@Suite("Slurm host lists", .serialized)
struct SlurmHostlistTests {
    static let accepted = [
        "node01", "node[1-3]", "node[01-03,7]", "n[9-11]", "n[08-11]", "n[01-3]", "n[1-010]", "n[001-002,5]",
        "n[0-0]", "a[1-2],a[2-3]", "n[1-3,2]", "h1,,h2", "a,b c", "[1-2]", "n[1-2],[3-4]", "gpu-a[1-2]b[5-6]",
        "a-[1-2]-b-[3]", "x[1-3]y[1-2]z[1-2]", "a[1-2]b[1-2]c[1-2]d[1-2]", "a[1,3]b[7]c[1-2]",
        "node[1-2],gpu-a[1-2]b[5-6],login", "cn[0001-0004,0100-0101]",
    ]
    static let rejected = [
        "n[5-3]", "n[a-b]", "n[]", "n[1-2]]", "n[1-2]x", "node[1-2].cluster", "y[1-2]-z", "n[1-1000000]",
    ]

    /// What scontrol makes of `list`: its names, or nil when it rejects the list (it then says
    /// `Invalid hostlist` on standard error, and exits 0 all the same).
    static func scontrol(_ list: String, configuration: String) async throws -> [String]? {
        let result = try await ExternalTools.run(["SLURM_CONF=\(configuration)", "scontrol", "show", "hostnames", list])
        guard result.status == 0, !result.error.contains("Invalid hostlist") else { return nil }
        return String(decoding: result.output, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    static func configuration() throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory("slurm-conf")
        try directory.write(
            "slurm.conf",
            Array(
                """
                ClusterName=hostlist
                SlurmctldHost=localhost
                NodeName=localhost CPUs=1 State=UNKNOWN
                PartitionName=debug Nodes=localhost Default=YES

                """.utf8))
        return (directory, directory.file("slurm.conf"))
    }

    @Test func expandsEveryListAsScontrolDoes() async throws {
        let (directory, configuration) = try Self.configuration()
        defer { directory.remove() }
        for list in Self.accepted {
            let expected = try await Self.scontrol(list, configuration: configuration)
            #expect(expected != nil, "scontrol rejected \(list)")
            #expect(try SlurmHostlist.expand(list) == expected, "\(list)")
        }
    }

    @Test func rejectsWhatScontrolRejects() async throws {
        let (directory, configuration) = try Self.configuration()
        defer { directory.remove() }
        for list in Self.rejected {
            #expect(try await Self.scontrol(list, configuration: configuration) == nil, "scontrol accepted \(list)")
            #expect(throws: WorkerDiscoveryError.self, "\(list)") { try SlurmHostlist.expand(list) }
        }
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: WorkerDiscoveryError.invalidHostlist("n[5-3]", reason: "the range '5-3' runs backwards")) {
            try SlurmHostlist.expand("n[5-3]")
        }
        #expect(throws: WorkerDiscoveryError.invalidHostlist("n[1-2", reason: "a '[' without its ']'")) {
            try SlurmHostlist.expand("n[1-2")
        }
        #expect(
            WorkerDiscoveryError.invalidHostlist("n[1-2]x", reason: "'n[1-2]x' has text after its last bracket")
                .description == "bad Slurm host list 'n[1-2]x': 'n[1-2]x' has text after its last bracket")
    }
}
