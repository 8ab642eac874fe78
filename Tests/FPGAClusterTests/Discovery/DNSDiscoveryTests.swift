import FPGACluster
import FPGATestSupport
import FPGATestSync
import FPGATransport
import Testing

/// `--workers dns:NAME:PORT` against a real DNS server (Debian's dnsmasq) serving several
/// address records for one name, as a Kubernetes headless Service does.
@Suite("DNS discovery", .serialized, .timeLimit(stuckTestLimit))
struct DNSDiscoveryTests {
    static func resolver(_ server: DNSServerProcess) -> DNSResolver {
        DNSResolver(server: Endpoint(host: "127.0.0.1", port: server.port))
    }

    @Test func everyRecordOfANameIsAWorker() async throws {
        let server = try await DNSServerProcess.start(records: [
            ("workers.test", "127.0.0.2"), ("workers.test", "127.0.0.3"), ("workers.test", "::1"),
            ("other.test", "127.0.0.9"),
        ])
        defer { server.stop() }
        let resolver = Self.resolver(server)
        #expect(try await resolver.addresses(of: "workers.test") == ["127.0.0.2", "127.0.0.3", "::1"])
        let workers = try await WorkerList(parsing: "dns:workers.test:7071,other.test:7000")
            .resolve(environment: [:], resolver: resolver)
        #expect(workers.map(\.description) == ["127.0.0.2:7071", "127.0.0.3:7071", "[::1]:7071", "other.test:7000"])
    }

    @Test func aNameWithNoRecordsIsAClearError() async throws {
        let server = try await DNSServerProcess.start(records: [("workers.test", "127.0.0.2")])
        defer { server.stop() }
        let error = await #expect(throws: WorkerDiscoveryError.noAddresses("missing.test")) {
            _ = try await WorkerList(parsing: "dns:missing.test").resolve(
                environment: [:], resolver: Self.resolver(server))
        }
        #expect(error?.description == "DNS name missing.test has no A or AAAA records")
    }

    @Test func aServerThatNeverAnswersEndsTheLookup() async throws {
        let silent = try UDPSocket()
        let resolver = DNSResolver(
            server: Endpoint(host: "127.0.0.1", port: silent.port), timeout: .milliseconds(200), tries: 1)
        let error = await #expect(throws: WorkerDiscoveryError.self) {
            _ = try await resolver.addresses(of: "workers.test")
        }
        #expect(error?.description == "cannot look up workers.test: DNS server 127.0.0.1:\(silent.port) did not answer")
        withExtendedLifetime(silent) {}
    }
}
