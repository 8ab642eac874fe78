import FPGACluster
import FPGATestSupport
import Foundation
import MetricsTestKit
import Testing

/// `fpga-worker --metrics-listen`: a real worker process serves /metrics and /health over
/// HTTP beside its data port, asked through curl.
@Suite("fpga-worker's metrics endpoint", .serialized)
struct MetricsEndpointTests {
    /// The sum of the samples of `metric` in Prometheus text.
    static func sum(_ metric: String, in text: String) -> Double {
        text.split(separator: "\n").filter { $0.hasPrefix(metric + "{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    @Test func metricsCountTheBytesOfARemoteJob() async throws {
        let worker = try await startWorker([
            "--device", "sim", "--device", "sim", "--metrics-listen", "127.0.0.1:0", "--worker-id", "worker-a",
        ])
        defer { worker.stop() }
        let url = try await worker.metricsURL()
        #expect(url.hasPrefix("http://127.0.0.1:"))
        #expect(try await HTTPProbe.request("GET", url + "/health").body == "ok\n")

        let data = TestData.logLines(count: 1 << 20)
        // The cluster's own metrics say whether an input ran twice (requeued after a lost
        // connection, as a late heartbeat on a loaded machine may cause).
        let clusterMetrics = TestMetrics()
        var configuration = testConfiguration(chunkSize: 64 << 10)
        configuration.metrics = clusterMetrics
        let cluster = try await Cluster(workers: [worker.address], token: nil, configuration: configuration)
        let gz = try await cluster.compress(data)
        #expect(try await ExternalTools.gzipDecompress(gz) == data)

        let metrics = try await HTTPProbe.request("GET", url + "/metrics")
        #expect(metrics.status == 200)
        let inputBytes = Self.sum("fpgacluster_device_input_bytes_total", in: metrics.body)
        let requeued = clusterMetrics.counters.filter { $0.label == "fpgacluster_inputs_requeued_total" }
            .reduce(0) { $0 + $1.totalValue }
        if requeued == 0 {
            #expect(inputBytes == Double(data.count))
        } else {
            #expect(inputBytes >= Double(data.count))
        }
        #expect(metrics.body.contains("device=\"sim0\""))
        #expect(metrics.body.contains("device=\"sim1\""))
        let health = try await HTTPProbe.request("GET", url + "/health")
        #expect(health.status == 200)
        #expect(health.body == "ok\n")

        // The dashboard's statuses: the worker's devices, its id as their host, the job's bytes counted.
        let status = try await HTTPProbe.request("GET", url + "/status.json")
        let statuses = try JSONDecoder().decode([DeviceStatus].self, from: Data(status.body.utf8))
        #expect(statuses.map(\.device) == ["sim0", "sim1"])
        #expect(statuses.allSatisfy { $0.host == "worker-a" && $0.problem == nil })
        #expect(statuses.reduce(0) { $0 + $1.inputBytes } >= UInt64(data.count))
        let page = try await HTTPProbe.request("GET", url + "/")
        #expect(page.contentType == "text/html; charset=utf-8")
        #expect(page.body.contains("<section class=\"device\" data-device=\"worker-a/sim0\""))
        #expect(page.body.contains("<section class=\"device\" data-device=\"worker-a/sim1\""))

        // Shutting the worker down closes both ports.
        worker.closeStandardInput()
        #expect(try await worker.exit() == .exited(0))
    }

    @Test func aMetricsPortInUseIsRefusedInOneLine() async throws {
        let first = try await startWorker(["--metrics-listen", "127.0.0.1:0"])
        defer { first.stop() }
        let taken = try await first.metricsURL().dropFirst("http://".count)
        let result = try await ExternalTools.run([
            workerExecutable, "--listen", "127.0.0.1:0", "--metrics-listen", String(taken),
        ])
        #expect(result.status == 75, "EX_TEMPFAIL: a restart may find the address free")
        // The metrics server starts before the data port: nothing was served, nothing else logged.
        #expect(result.error == "fpga-worker: cannot serve metrics on \(taken): address already in use\n")
        #expect(try await HTTPProbe.request("GET", "http://\(taken)/health").status == 200)
    }

    /// Clients that hold the metrics port without playing along: some pipeline hundreds of
    /// requests and never read an answer, some send half a request and stop, some send bytes
    /// that are not HTTP. While they hold on, the worker runs a job on its data port and
    /// answers well-behaved metrics and health requests.
    @Test func hostileMetricsClientsDoNotStopTheWorker() async throws {
        let worker = try await startWorker(["--device", "sim", "--metrics-listen", "127.0.0.1:0"])
        defer { worker.stop() }
        let url = try await worker.metricsURL()
        let address = url.dropFirst("http://".count).split(separator: ":")
        let script = """
            import socket, sys
            host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            held = []
            for _ in range(count):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.settimeout(60)
                s.connect((host, port))
                s.sendall(b"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" * 300)
                held.append(s)
            for _ in range(count):
                s = socket.create_connection((host, port), timeout=60)
                s.sendall(b"GET /metr")
                held.append(s)
            for _ in range(count):
                s = socket.create_connection((host, port), timeout=60)
                s.sendall(b"\\x00\\xff NOT HTTP \\r\\n\\r\\n")
                held.append(s)
            print("holding", len(held), flush=True)
            sys.stdin.read()
            """
        let clients = try await ChildProcess.start(
            "/usr/bin/env", arguments: ["python3", "-c", script, String(address[0]), String(address[1]), "8"],
            input: .held)
        defer { clients.kill() }
        #expect(try await clients.firstOutputLine() == "holding 24", "\(clients.errorText)")

        let data = TestData.logLines(count: 1 << 20, seed: 9)
        let cluster = try await Cluster(
            workers: [worker.address], token: nil, configuration: testConfiguration(chunkSize: 64 << 10))
        #expect(try await ExternalTools.gzipDecompress(try await cluster.compress(data)) == data)
        let health = try await HTTPProbe.request("GET", url + "/health")
        #expect(health.status == 200 && health.body == "ok\n")
        let metrics = try await HTTPProbe.request("GET", url + "/metrics")
        #expect(metrics.status == 200)
        #expect(Self.sum("fpgacluster_device_input_bytes_total", in: metrics.body) >= Double(data.count))
        // Without --worker-id, the dashboard names the host by the address the worker got for port 0.
        let status = try await HTTPProbe.request("GET", url + "/status.json")
        let rows = try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [[String: Any]] ?? []
        #expect(rows.map { $0["host"] as? String } == [worker.address])

        clients.closeStandardInput()
        #expect(try await clients.exit() == .exited(0))
        #expect(try await HTTPProbe.request("GET", url + "/health").status == 200)
        worker.closeStandardInput()
        #expect(try await worker.exit() == .exited(0))
    }

    @Test func withoutTheFlagTheWorkerWritesOneLine() async throws {
        let worker = try await startWorker()
        worker.closeStandardInput()
        #expect(try await worker.exit() == .exited(0))
        let lines = String(decoding: worker.child.output, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("listening on 127.0.0.1:") == true)
    }
}
