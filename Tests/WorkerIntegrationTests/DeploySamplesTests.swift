import FPGACluster
import FPGAExecution
import FPGATestSupport
import FPGATransport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The files of `Samples/Deploy` are checked by the tools that will read them: systemd's own
/// verifier for the unit, a YAML parser (Python's, Debian's python3-yaml) for the Kubernetes
/// manifests, and fpga-worker itself for the options they pass it.
@Suite("deployment samples", .serialized)
struct DeploySamplesTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Samples/Deploy").path

    @Test func theSystemdUnitPassesSystemdAnalyzeVerify() async throws {
        let folder = try TemporaryDirectory("unit")
        defer { folder.remove() }
        // verify checks that ExecStart's program exists: point it at the one just built.
        let unit = try String(contentsOfFile: "\(Self.deploy)/systemd/fpga-worker.service", encoding: .utf8)
        try folder.write(
            "fpga-worker.service",
            Array(unit.replacingOccurrences(of: "/usr/local/bin/fpga-worker", with: workerExecutable).utf8))
        let result = try await ExternalTools.run(["systemd-analyze", "verify", folder.file("fpga-worker.service")])
        #expect(result.status == 0)
        // It exits 0 on unknown keys and bad values too, with a warning: there must be none.
        #expect(result.error.isEmpty, "\(result.error)")
        #expect(unit.contains("Type=notify"))
        #expect(unit.contains("KillSignal=SIGTERM"))
        #expect(unit.contains("RestartPreventExitStatus=64 66 78"))
    }

    /// The unit's ExecStart, run as systemd would run it with the settings of fpga-worker.env
    /// (the listen addresses replaced by free loopback ports, the credential by a temporary
    /// token): every flag it passes exists, the worker serves (--device auto: one simulated
    /// device per core here), tells the notify socket READY=1, and drains on the unit's
    /// KillSignal with exit status 0.
    @Test func theUnitsCommandLineServes() async throws {
        let folder = try TemporaryDirectory("unit")
        defer { folder.remove() }
        let unit = try String(contentsOfFile: "\(Self.deploy)/systemd/fpga-worker.service", encoding: .utf8)
        let settings = try String(contentsOfFile: "\(Self.deploy)/systemd/fpga-worker.env", encoding: .utf8)
        var variables: [String: String] = [:]
        for line in settings.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            variables[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        #expect(variables["FPGA_WORKER_DEVICE"] == "auto")
        variables["FPGA_WORKER_LISTEN"] = "127.0.0.1:0"
        variables["FPGA_WORKER_METRICS_LISTEN"] = "127.0.0.1:0"
        variables["CREDENTIALS_DIRECTORY"] = folder.path
        try folder.write("token", Array("correct horse battery staple\n".utf8))

        let execStart = try #require(
            unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }?.dropFirst("ExecStart=".count))
        // systemd's expansion: ${NAME} is one word; $NAME alone splits at whitespace.
        var words: [String] = []
        for word in execStart.split(separator: " ") {
            if word.hasPrefix("$") && !word.hasPrefix("${") {
                words += (variables[String(word.dropFirst())] ?? "").split(separator: " ").map(String.init)
                continue
            }
            var expanded = String(word)
            for (name, value) in variables { expanded = expanded.replacingOccurrences(of: "${\(name)}", with: value) }
            #expect(!expanded.contains("$"), "\(word) names a variable fpga-worker.env does not set")
            words.append(expanded)
        }
        #expect(words.first == "/usr/local/bin/fpga-worker")

        let socket = try NotifySocket(path: folder.file("notify"))
        let child = try await ChildProcess.start(
            workerExecutable, arguments: Array(words.dropFirst()),
            environment: ["FPGACLUSTER_TOKEN": nil, "NOTIFY_SOCKET": socket.address], input: .held)
        defer { child.kill() }
        let line = try #require(try await child.firstOutputLine(), "\(child.errorText)")
        try #require(line.hasPrefix("listening on "), "\(line)")
        let address = String(line.dropFirst("listening on ".count))
        let ready = try await socket.message(with: "READY=1")
        let cores = ProcessorInfo.activeCores
        #expect(ready.contains("STATUS=serving \(cores) devices on \(address)\n"), "\(ready)")

        let token = try AuthToken.load(file: folder.file("token"))
        let remote = WorkerConnection(endpoint: try Endpoint(parsing: address), token: token, settings: testSettings())
        let welcome = try await remote.connect()
        await remote.disconnect()
        #expect(welcome.devices.count == cores)

        #expect(unit.contains("KillSignal=SIGTERM"))
        child.signal(SIGTERM)
        _ = try await socket.message(with: "STOPPING=1")
        #expect(try await child.exit() == .exited(0))
    }

    /// The manifests as JSON, one object per YAML document, through `yaml.safe_load_all`.
    static func manifests(_ name: String) async throws -> [[String: Any]] {
        let script = "import json,sys,yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))"
        let result = try await ExternalTools.run(["python3", "-c", script, "\(deploy)/kubernetes/\(name)"])
        guard result.status == 0 else { throw ToolFailure("\(name) does not parse: \(result.error)") }
        return try JSONSerialization.jsonObject(with: Data(result.output)) as? [[String: Any]] ?? []
    }

    static func value(_ object: Any?, _ path: String) -> Any? {
        path.split(separator: ".").reduce(object) { current, key in
            if let index = Int(key), let array = current as? [Any] {
                return array.indices.contains(index) ? array[index] : nil
            }
            return (current as? [String: Any])?[String(key)]
        }
    }

    @Test func theKubernetesManifestsCarryWhatTheyMust() async throws {
        let daemonSet = try #require(try await Self.manifests("fpga-worker-daemonset.yaml").first)
        #expect(Self.value(daemonSet, "kind") as? String == "DaemonSet")
        let container = Self.value(daemonSet, "spec.template.spec.containers.0")
        let limits = Self.value(container, "resources.limits") as? [String: Any] ?? [:]
        #expect(limits.keys.contains { $0.hasPrefix("xilinx.com/fpga-") }, "the device plugin's resource")
        #expect(
            Self.value(daemonSet, "spec.template.spec.volumes.0.secret.secretName") as? String == "fpgacluster-token")
        let args = Self.value(container, "args") as? [String] ?? []
        #expect(args.contains("--token-file=/etc/fpgacluster/token"))
        #expect(Self.value(container, "readinessProbe.httpGet.path") as? String == "/health")

        let service = try #require(try await Self.manifests("fpga-worker-service.yaml").first)
        #expect(Self.value(service, "kind") as? String == "Service")
        #expect(Self.value(service, "spec.clusterIP") as? String == "None", "headless: one DNS record per pod")

        let secret = try #require(try await Self.manifests("fpgacluster-token-secret.yaml").first)
        #expect(Self.value(secret, "kind") as? String == "Secret")
        #expect(Self.value(secret, "metadata.name") as? String == "fpgacluster-token")

        let job = try #require(try await Self.manifests("fpga-compress-job.yaml").first)
        #expect(Self.value(job, "kind") as? String == "Job")
        let jobArgs = Self.value(job, "spec.template.spec.containers.0.args") as? [String] ?? []
        #expect(jobArgs.contains { $0.hasPrefix("--workers=dns:fpga-worker.") })
        #expect(Self.value(job, "spec.template.spec.volumes.0.secret.secretName") as? String == "fpgacluster-token")
    }
}
