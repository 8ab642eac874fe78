import FPGATestSupport
import Foundation

/// A real Prometheus server (Debian's `prometheus`) scraping the given targets every
/// `interval`, with its data in a temporary directory, asked through its HTTP API.
final class PrometheusProcess: Sendable {
    /// `http://127.0.0.1:PORT`.
    let url: String
    let child: ChildProcess
    private let directory: TemporaryDirectory

    private init(url: String, child: ChildProcess, directory: TemporaryDirectory) {
        self.url = url
        self.child = child
        self.directory = directory
    }

    /// Starts Prometheus on a free loopback port, scraping `targets` (`HOST:PORT` of
    /// metrics endpoints) as job `job`; returns once it is ready to answer queries.
    static func start(job: String, targets: [String], interval: String = "1s") async throws -> PrometheusProcess {
        let tool = try RequiredTool("prometheus", package: "prometheus")
        let directory = try TemporaryDirectory("prometheus")
        let quoted = targets.map { "\"\($0)\"" }.joined(separator: ", ")
        try directory.write(
            "prometheus.yml",
            Array(
                """
                global:
                  scrape_interval: \(interval)
                  scrape_timeout: \(interval)
                scrape_configs:
                  - job_name: \(job)
                    static_configs:
                      - targets: [\(quoted)]

                """.utf8))
        let child = try await ChildProcess.start(
            tool.path,
            arguments: [
                "--config.file=\(directory.file("prometheus.yml"))", "--storage.tsdb.path=\(directory.file("data"))",
                "--web.listen-address=127.0.0.1:0", "--log.level=info",
            ], input: .held)
        // Asked for port 0, it logs the port it got: `msg="Listening on" address=127.0.0.1:PORT`.
        var address: String?
        try await waitUntil("Prometheus listening") {
            guard child.isRunning else { throw ToolFailure("prometheus exited: \(child.errorText)") }
            address = Self.listeningAddress(in: child.errorText)
            return address != nil
        }
        let prometheus = PrometheusProcess(url: "http://\(address!)", child: child, directory: directory)
        try await waitUntil("Prometheus ready") {
            (try? await HTTPProbe.request("GET", prometheus.url + "/-/ready").status) == 200
        }
        return prometheus
    }

    /// Stops the server and removes its data.
    func stop() {
        child.kill()
        directory.remove()
    }

    static func listeningAddress(in log: String) -> String? {
        for line in log.split(separator: "\n") where line.contains("msg=\"Listening on\"") {
            if let field = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }) {
                return String(field.dropFirst("address=".count))
            }
        }
        return nil
    }

    /// The series of an instant query, each as its labels and value.
    func query(_ promQL: String) async throws -> [(labels: [String: String], value: Double)] {
        let encoded = promQL.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? promQL
        let response = try await HTTPProbe.request("GET", url + "/api/v1/query?query=" + encoded)
        guard response.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any],
            object["status"] as? String == "success", let data = object["data"] as? [String: Any],
            let result = data["result"] as? [[String: Any]]
        else { throw ToolFailure("prometheus query \(promQL) answered \(response.status): \(response.body)") }
        return result.compactMap { series in
            guard let labels = series["metric"] as? [String: String], let pair = series["value"] as? [Any],
                pair.count == 2, let text = pair[1] as? String, let value = Double(text)
            else { return nil }
            return (labels, value)
        }
    }

    /// The health Prometheus gives each scrape target (`up`, `down`, `unknown`), by address.
    func targetHealth() async throws -> [String: String] {
        let response = try await HTTPProbe.request("GET", url + "/api/v1/targets")
        guard let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any],
            let data = object["data"] as? [String: Any], let active = data["activeTargets"] as? [[String: Any]]
        else { throw ToolFailure("prometheus targets answered \(response.status): \(response.body)") }
        var health: [String: String] = [:]
        for target in active {
            if let labels = target["labels"] as? [String: String], let instance = labels["instance"] {
                health[instance] = target["health"] as? String
            }
        }
        return health
    }
}
