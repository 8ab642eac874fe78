import FPGAJobs
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// A check of the `/health` endpoint: `nil` when what it checks is usable, otherwise one line
/// saying why not.
public typealias HealthCheck = @Sendable () async -> String?

/// What the dashboard shows: the status of every device, in the order to show them.
public typealias StatusProvider = @Sendable () async -> [DeviceStatus]

/// An HTTP server for a worker process's operators: `GET /metrics` gives a Prometheus
/// registry's metrics in the Prometheus text format, `GET /health` says whether every device
/// is usable.
///
/// - `GET /metrics`: 200, content type `text/plain; version=0.0.4`, the registry's text.
/// - `GET /health`: 200 `ok` when every check passes; 503 and each failing check's reason,
///   one per line, otherwise.
/// - With a status provider: `GET /`, the ``Dashboard`` page (`text/html; charset=utf-8`),
///   and `GET /status.json`, the statuses as a JSON array of ``DeviceStatus`` (sorted
///   keys). Without one, both are 404.
/// - Any other path: 404; any other method: 405.
///
/// It runs on [Hummingbird](https://github.com/hummingbird-project/hummingbird) in a task of
/// its own, apart from the worker's data port: ``stop()`` closes it and nothing else.
public final class MetricsServer: Sendable {
    /// The address the server listens on, with the port it was given when asked for port 0.
    public let host: String
    /// The port it listens on.
    public let port: Int

    private let group: ServiceGroup
    private let task: Task<Void, Never>

    /// `host:port`, with brackets around an IPv6 host.
    public var address: String { host.contains(Character(":")) ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private init(host: String, port: Int, group: ServiceGroup, task: Task<Void, Never>) {
        self.host = host
        self.port = port
        self.group = group
        self.task = task
    }

    /// Starts a server on `host:port` (port 0 picks a free one) that serves `registry` and
    /// the health `checks`, and with a `status` provider the dashboard under `title`;
    /// returns once it listens. Throws ``MetricsServerError`` when it cannot listen. Without
    /// a `logger`, the server logs notices and worse only. `now` stamps the dashboard. A
    /// connection idle for `idleTimeout` (nothing read or written) is closed.
    public static func start(
        host: String, port: Int, registry: PrometheusCollectorRegistry, checks: [HealthCheck],
        title: String = "FPGACluster", status: StatusProvider? = nil, logger: Logger? = nil,
        now: @escaping @Sendable () -> Date = Date.init, idleTimeout: Duration = .seconds(60)
    ) async throws(MetricsServerError) -> MetricsServer {
        let logger =
            logger
            ?? {
                var logger = Logger(label: "fpga-metrics")
                logger.logLevel = .notice
                return logger
            }()
        let (events, continuation) = AsyncStream.makeStream(of: Result<(String, Int), any Error>.self)
        let responder = MetricsResponder(
            registry: registry, checks: checks,
            dashboard: status.map { DashboardSource(title: title, status: $0, now: now) })
        // A connection with nothing read or written for `idleTimeout` is closed: a client that
        // sends half a request, or stops reading, does not hold it for the life of the process.
        let (seconds, attoseconds) = idleTimeout.components
        let idle = TimeAmount.nanoseconds(max(1, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        let app = Application(
            responder: responder,
            server: .http1(configuration: HTTP1Channel.Configuration(idleTimeout: idle)),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "fpga-worker"),
            onServerRunning: { channel in
                let bound = channel.localAddress
                continuation.yield(.success((bound?.ipAddress ?? host, bound?.port ?? port)))
            },
            logger: logger)
        var configuration = ServiceGroupConfiguration(services: [.init(service: app)], logger: logger)
        // Open connections get this long to finish their requests; then they are cut.
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        let task = Task {
            do {
                try await group.run()
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        let requested = host.contains(Character(":")) ? "[\(host)]:\(port)" : "\(host):\(port)"
        for await event in events {
            switch event {
            case .success(let (boundHost, boundPort)):
                return MetricsServer(host: boundHost, port: boundPort, group: group, task: task)
            case .failure(let error):
                throw MetricsServerError(address: requested, cause: error)
            }
        }
        throw MetricsServerError(address: requested, reason: "the server stopped before listening")
    }

    /// Stops listening, lets open requests finish, and returns when the server has stopped.
    public func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }
}

/// Why a ``MetricsServer`` could not listen.
public struct MetricsServerError: Error, Hashable, CustomStringConvertible {
    /// The address it was asked to listen on.
    public let address: String
    /// One line: `address already in use`, or the system's reason.
    public let reason: String

    public init(address: String, reason: String) {
        self.address = address
        self.reason = reason
    }

    init(address: String, cause: any Error) {
        let reason: String
        if let io = cause as? IOError {
            reason = io.errnoCode == EADDRINUSE ? "address already in use" : String(cString: strerror(io.errnoCode))
        } else {
            reason = "\(cause)"
        }
        self.init(address: address, reason: reason.split(whereSeparator: \.isNewline).joined(separator: " "))
    }

    public var description: String { "cannot serve metrics on \(address): \(reason)" }
}

extension MetricsServer {
    /// The health check of a node: its device's ``DeviceHealth``.
    public static func check(_ node: LocalNode) -> HealthCheck {
        { node.health.reason }
    }

    /// The dashboard's statuses of a process's own nodes, in their order, each with `host`
    /// as its host (a worker's id, as its clients name it).
    public static func status(of nodes: [LocalNode], host: String) -> StatusProvider {
        status(of: nodes) { host }
    }

    /// The same, with the host read at each request: for a name known only later, such as
    /// the address a worker asked to listen on port 0 was given.
    public static func status(of nodes: [LocalNode], host: @escaping @Sendable () -> String) -> StatusProvider {
        {
            var statuses: [DeviceStatus] = []
            let host = host()
            for node in nodes { statuses.append(await node.status(host: host)) }
            return statuses
        }
    }
}

/// Answers the server's requests; Hummingbird parses them and turns malformed ones away
/// with a 400.
struct MetricsResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let registry: PrometheusCollectorRegistry
    let checks: [HealthCheck]
    let dashboard: DashboardSource?

    /// The paths served: the dashboard's only with a status provider.
    var paths: Set<String> {
        dashboard == nil ? ["/metrics", "/health"] : ["/metrics", "/health", "/", "/status.json"]
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        guard paths.contains(path) else {
            return Self.text(.notFound, "not found\n")
        }
        guard request.method == .get else {
            var response = Self.text(.methodNotAllowed, "method not allowed\n")
            response.headers[.allow] = "GET"
            return response
        }
        if path == "/metrics" {
            var text: [UInt8] = []
            registry.emit(into: &text)
            var response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
            response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        }
        if let dashboard, path == "/" || path == "/status.json" {
            return try await dashboard.respond(json: path == "/status.json")
        }
        var failures: [String] = []
        for check in checks {
            if let reason = await check() { failures.append(reason) }
        }
        if failures.isEmpty { return Self.text(.ok, "ok\n") }
        return Self.text(.serviceUnavailable, failures.map { $0 + "\n" }.joined())
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var response = Response(status: status, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        response.headers[.contentType] = "text/plain; charset=utf-8"
        return response
    }
}

/// What the dashboard's paths serve: the statuses, as a page under a title or as JSON.
struct DashboardSource: Sendable {
    let title: String
    let status: StatusProvider
    let now: @Sendable () -> Date

    func respond(json: Bool) async throws -> Response {
        let statuses = await status()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var bytes = Array(try encoder.encode(statuses))
            bytes.append(0x0a)
            var response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
            response.headers[.contentType] = "application/json"
            response.headers[.cacheControl] = "no-store"
            return response
        }
        let page = Dashboard.html(title: title, statuses: statuses, time: now())
        var response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
        response.headers[.contentType] = "text/html; charset=utf-8"
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
