import ArgumentParser
import FPGAJobs
import FPGAMetricsServer
import FPGATransport
import Metrics
import Prometheus

/// Where a client tool (fpga-compress, fpga-classify) serves its job's metrics, if
/// anywhere: while the job runs, the cluster's dashboard on `/`, its statuses on
/// `/status.json`, the process's Prometheus metrics on `/metrics` and its local devices'
/// health on `/health`. ``MetricsListenOption`` reads it from `--metrics-listen HOST:PORT`.
///
/// Two steps, in this order: ``bootstrap()`` before the cluster is made (each node counts
/// through the metrics factory bootstrapped when it is made), then
/// ``serving(tool:title:nodes:status:registry:_:)`` around the job.
public struct MetricsListening: Sendable, Hashable {
    /// The `HOST:PORT` to serve on (port 0 picks a free port), or nil for no server.
    public var address: String?

    public init(address: String? = nil) { self.address = address }

    /// Throws a `ValidationError` naming the flag when the address is not `HOST:PORT`.
    public func validate() throws {
        guard let address else { return }
        do {
            _ = try Endpoint(parsing: address)
        } catch {
            throw ValidationError("--metrics-listen: \(error)")
        }
    }

    /// With an address, bootstraps the metrics system with a Prometheus factory and
    /// returns its registry; without, does nothing and returns `nil`. Call it once, before
    /// the cluster is made.
    public func bootstrap() -> PrometheusCollectorRegistry? {
        guard address != nil else { return nil }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Runs `job` with the server up when there is an address, otherwise just runs
    /// it. The server starts before the job (an address it cannot have throws a
    /// ``MetricsServerError`` and the job never starts), says where it is in one line on
    /// standard error (`tool: dashboard on http://HOST:PORT/ (metrics on /metrics)`:
    /// standard output may carry the job's data), and stops once the job has ended, however
    /// it ended. `nodes` that are ``LocalNode``s are `/health`'s checks.
    public func serving<Value>(
        tool: String, title: String, nodes: [any DeviceNode], status: @escaping StatusProvider,
        registry: PrometheusCollectorRegistry?, _ job: () async throws -> Value
    ) async throws -> Value {
        guard let address, let registry else { return try await job() }
        let endpoint = try Endpoint(parsing: address)
        let server = try await MetricsServer.start(
            host: endpoint.host, port: Int(endpoint.port), registry: registry,
            checks: nodes.compactMap { $0 as? LocalNode }.map(MetricsServer.check), title: title, status: status)
        writeStandardError("\(tool): dashboard on http://\(server.address)/ (metrics on /metrics)\n")
        let result: Result<Value, any Error>
        do {
            result = .success(try await job())
        } catch {
            result = .failure(error)
        }
        await server.stop()
        return try result.get()
    }
}
