import ArgumentParser
import FPGACluster
import FPGAJobs
import FPGAMetricsServer
import FPGATransport
import Foundation
import Prometheus
import SampleSupport
import Synchronization

/// `fpga-worker status`: what the devices of running workers are doing, as one table (or
/// JSON), once or redrawn like `top` until SIGINT or SIGTERM.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the devices of running fpga-worker processes are doing.",
        discussion: """
            Asks every worker of --workers at once and prints one table: a row per device with its \
            program, compute units, busy time and input rate over the last 5 seconds, queued, \
            completed and failed inputs, and a PROBLEM column for unhealthy devices and workers \
            that could not be asked. --watch redraws it every --interval-ms until SIGINT or \
            SIGTERM (exit status 0). --json prints a JSON array instead, one object per device. \
            --listen HOST:PORT serves the cluster's dashboard instead (GET /, the workers asked at \
            each load; /status.json; /health, 503 naming the workers that do not answer) until SIGINT \
            or SIGTERM, and prints `dashboard on http://HOST:PORT/` first. \
            Exit status 1 when a worker could not be asked (one line on standard error for each).
            """)

    @OptionGroup var cluster: ClusterOptions

    @Flag(help: "Redraw the table every --interval-ms until SIGINT or SIGTERM.")
    var watch = false

    @Flag(help: "Print a JSON array, one object per device (sorted keys).")
    var json = false

    @Option(
        name: .customLong("interval-ms"),
        help: ArgumentHelp("How often --watch redraws, in milliseconds.", valueName: "MS"))
    var intervalMilliseconds: Int = 1000

    @Option(
        help: ArgumentHelp(
            "Serve the cluster's dashboard on this address until SIGINT or SIGTERM (port 0 picks a free port).",
            valueName: "HOST:PORT"))
    var listen: String?

    @Option(
        name: .customLong("timeout-ms"),
        help: ArgumentHelp("How long a worker has to connect and to answer, in milliseconds.", valueName: "MS"))
    var timeoutMilliseconds: Int = 5000

    private static let messages = ToolMessages(tool: "fpga-worker", hint: ClusterOptions.hint(for:))

    func run() async throws {
        let (endpoints, token) = try await checkedArguments()
        var settings = WorkerConnection.Settings()
        settings.connectTimeout = .milliseconds(timeoutMilliseconds)
        let poller = StatusPoller(endpoints: endpoints, token: token, settings: settings)
        if let listen {
            try await serveDashboard(poller, on: try Endpoint(parsing: listen))
        } else if watch {
            try await watchLoop(poller)
        } else {
            let round = await poller.poll()
            writeStandardOutput(json ? try Self.json(round.statuses) : StatusTable.render(round.statuses))
            await poller.disconnect()
            for (worker, reason) in round.failures { Self.messages.print("\(worker): \(reason)") }
            if !round.failures.isEmpty { throw ExitCode.failure }
        }
    }

    /// The endpoints (hostfiles read, DNS names looked up, Slurm lists expanded) and token, or
    /// one line on standard error and exit status 64.
    private func checkedArguments() async throws -> ([Endpoint], AuthToken?) {
        do {
            guard cluster.localDevices == nil else { throw ValidationError("--local is not for status") }
            guard let addresses = try await cluster.selection.workerAddresses(), !addresses.isEmpty else {
                throw ValidationError("status needs --workers HOST:PORT,...")
            }
            guard (10...3_600_000).contains(intervalMilliseconds) else {
                throw ValidationError("--interval-ms must be between 10 and 3600000")
            }
            guard (10...600_000).contains(timeoutMilliseconds) else {
                throw ValidationError("--timeout-ms must be between 10 and 600000")
            }
            if watch && json { throw ValidationError("--watch and --json do not go together") }
            if listen != nil && (watch || json) {
                throw ValidationError("--listen serves the dashboard: it does not go with --watch or --json")
            }
            if let listen, (try? Endpoint(parsing: listen)) == nil {
                throw ValidationError("--listen: '\(listen)' is not HOST:PORT")
            }
            let endpoints = try addresses.map { try Endpoint(parsing: $0) }
            return (endpoints, try cluster.selection.token())
        } catch {
            Self.messages.print("\(error)")
            throw ExitCode.validationFailure
        }
    }

    /// Redraws until SIGINT or SIGTERM, then returns (exit status 0).
    private func watchLoop(_ poller: StatusPoller) async throws {
        let interval = Duration.milliseconds(intervalMilliseconds)
        let loop = Task {
            let clock = ContinuousClock()
            var next = clock.now
            while !Task.isCancelled {
                let round = await poller.poll()
                // A signal during the round cut it short: its answers are cancellations, not news.
                if Task.isCancelled { break }
                let screen = StatusTable.summary(
                    round.statuses, workers: poller.endpoints.count,
                    answered: poller.endpoints.count - round.failures.count, time: Self.now())
                // Home, clear the screen, then the header and the table.
                writeStandardOutput("\u{1B}[H\u{1B}[2J" + screen + "\n" + StatusTable.render(round.statuses))
                next += interval
                if next < clock.now { next = clock.now }
                guard (try? await clock.sleep(until: next)) != nil else { break }
            }
        }
        let signals = InterruptSignals { loop.cancel() }
        defer { signals.stop() }
        await loop.value
        await poller.disconnect()
    }

    /// Serves the dashboard of every worker's devices until SIGINT or SIGTERM: each page load
    /// asks the workers, so the page is as fresh as its last reload.
    private func serveDashboard(_ poller: StatusPoller, on endpoint: Endpoint) async throws {
        let workers = poller.endpoints.map(\.description).joined(separator: ", ")
        let server: MetricsServer
        do {
            server = try await MetricsServer.start(
                host: endpoint.host, port: Int(endpoint.port), registry: PrometheusCollectorRegistry(),
                checks: [{ await poller.unanswered() }], title: "FPGACluster: \(workers)",
                status: { await poller.poll().statuses })
        } catch {
            Self.messages.print("\(error)")
            throw ExitCode.failure
        }
        // The first line on standard output is the address, for scripts that asked for port 0.
        writeStandardOutput("dashboard on http://\(server.address)/\n")
        let stopped = AsyncStream<Void>.makeStream()
        let signals = InterruptSignals { stopped.continuation.finish() }
        defer { signals.stop() }
        for await _ in stopped.stream {}
        await server.stop()
        await poller.disconnect()
    }

    /// The time now, `2026-12-03 18:40:12 UTC`.
    private static func now() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date())
    }

    /// The statuses as a JSON array with sorted keys, and a newline.
    static func json(_ statuses: [DeviceStatus]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(statuses.map(StatusRecord.init))
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// One device in `--json`: the ``DeviceStatus`` fields (nulls included) plus `busy` (the
/// busy fraction over the last 5 seconds) and `bytesPerSecond` (input bytes per second
/// over them).
struct StatusRecord: Encodable {
    let status: DeviceStatus

    private enum Keys: String, CodingKey {
        case host, device, kind, program, computeUnits, running, queued, completed, failed, inputBytes, outputBytes
        case busySeconds, problem, history, busy, bytesPerSecond
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(status.host, forKey: .host)
        try container.encode(status.device, forKey: .device)
        try container.encode(status.kind, forKey: .kind)
        try container.encode(status.program, forKey: .program)
        try container.encode(status.computeUnits, forKey: .computeUnits)
        try container.encode(status.running, forKey: .running)
        try container.encode(status.queued, forKey: .queued)
        try container.encode(status.completed, forKey: .completed)
        try container.encode(status.failed, forKey: .failed)
        try container.encode(status.inputBytes, forKey: .inputBytes)
        try container.encode(status.outputBytes, forKey: .outputBytes)
        try container.encode(status.busySeconds, forKey: .busySeconds)
        try container.encode(status.problem, forKey: .problem)
        try container.encode(status.history, forKey: .history)
        try container.encode(status.recentBusy, forKey: .busy)
        try container.encode(status.recentInputBytesPerSecond, forKey: .bytesPerSecond)
    }
}

/// Asks every worker at once, keeping each connection for the next round (`--watch`) and
/// connecting again to a worker that was lost.
final class StatusPoller: Sendable {
    /// One round's answers: a status per device in the order of the workers, and why each
    /// worker that gave none did not (its address and the reason).
    struct Round: Sendable {
        var statuses: [DeviceStatus]
        var failures: [(worker: String, reason: String)]
    }

    let endpoints: [Endpoint]
    private let connections: [WorkerConnection]

    init(endpoints: [Endpoint], token: AuthToken?, settings: WorkerConnection.Settings) {
        self.endpoints = endpoints
        self.connections = endpoints.map { WorkerConnection(endpoint: $0, token: token, settings: settings) }
    }

    func poll() async -> Round {
        let answers = await withTaskGroup(of: (Int, Result<[DeviceStatus], any Error>).self) { group in
            for (position, connection) in connections.enumerated() {
                group.addTask {
                    do {
                        try await connection.connect()
                        let statuses = try await connection.status()
                        return (position, .success(statuses))
                    } catch {
                        // Connect again next round.
                        await connection.disconnect()
                        return (position, .failure(error))
                    }
                }
            }
            var answers = [Result<[DeviceStatus], any Error>?](repeating: nil, count: connections.count)
            for await (position, answer) in group { answers[position] = answer }
            return answers
        }
        var round = Round(statuses: [], failures: [])
        for (position, answer) in answers.enumerated() {
            let worker = endpoints[position].description
            switch answer {
            case .success(let statuses)?:
                round.statuses += statuses
            case .failure(let error)?:
                let reason = ClusterOptions.hint(for: error).map { "\(error) (\($0))" } ?? "\(error)"
                round.statuses.append(DeviceStatus(host: worker, device: "", kind: "unknown", problem: reason))
                round.failures.append((worker, reason))
            case nil:
                break
            }
        }
        return round
    }

    func disconnect() async {
        for connection in connections { await connection.disconnect() }
    }

    /// The workers that do not answer now, one line each (`HOST:PORT: reason`), or `nil`
    /// when all do: a `/health` check.
    func unanswered() async -> String? {
        let failures = await poll().failures
        return failures.isEmpty ? nil : failures.map { "\($0.worker): \($0.reason)" }.joined(separator: "\n")
    }
}
