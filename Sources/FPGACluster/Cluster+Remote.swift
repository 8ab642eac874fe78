import FPGADevice
import FPGATransport

extension Cluster {
    /// A cluster of the devices of worker processes at `workers` (`HOST:PORT` each),
    /// plus any local `devices`, discovered from each worker's handshake.
    ///
    /// Workers that cannot be reached are left out (see ``unreachableWorkers``); the
    /// cluster needs at least one device in all. The connections use
    /// ``Configuration/connection``.
    public init(
        workers: [String], token: AuthToken?, devices: [any Device] = [], programs: ProgramLibrary = .builtIn,
        configuration: Configuration = Configuration()
    ) async throws {
        let endpoints = try workers.map { text throws(TransportError) in try Endpoint(parsing: text) }
        let connected = await Self.connect(endpoints, token: token, settings: configuration.connection)
        var nodes: [any DeviceNode] = devices.map { LocalNode(device: $0, programs: programs) }
        var unreachable: [String: String] = [:]
        var firstError: (any Error)?
        for (position, result) in connected {
            switch result {
            case .success(let (worker, welcome)):
                for device in welcome.devices {
                    nodes.append(
                        RemoteNode(
                            connection: worker, deviceIndex: Int(device.index),
                            name: "\(endpoints[position])/\(device.name)"))
                }
            case .failure(let error):
                unreachable[endpoints[position].description] = String(describing: error)
                if firstError == nil { firstError = error }
            }
        }
        if nodes.isEmpty, let firstError { throw firstError }
        try self.init(nodes: nodes, configuration: configuration, unreachableWorkers: unreachable)
    }

    /// A cluster of the devices of worker processes, connected with `settings`.
    @available(*, deprecated, message: "set configuration.connection instead of passing settings:")
    @_documentation(visibility: internal)
    public init(
        workers: [String], token: AuthToken?, devices: [any Device] = [], programs: ProgramLibrary = .builtIn,
        configuration: Configuration = Configuration(), settings: WorkerConnection.Settings
    ) async throws {
        var configuration = configuration
        configuration.connection = settings
        try await self.init(
            workers: workers, token: token, devices: devices, programs: programs, configuration: configuration)
    }

    /// Connects to every worker at once; results in the order given.
    private static func connect(
        _ endpoints: [Endpoint], token: AuthToken?, settings: WorkerConnection.Settings
    ) async -> [(Int, Result<(WorkerConnection, Welcome), any Error>)] {
        await withTaskGroup(of: (Int, Result<(WorkerConnection, Welcome), any Error>).self) { group in
            for (position, endpoint) in endpoints.enumerated() {
                group.addTask {
                    let worker = WorkerConnection(endpoint: endpoint, token: token, settings: settings)
                    do {
                        // Bound first: Swift 6.3.1's optimizer loses `position` when the
                        // await sits inside the result expression.
                        let welcome = try await worker.connect()
                        return (position, .success((worker, welcome)))
                    } catch {
                        return (position, .failure(error))
                    }
                }
            }
            var results: [(Int, Result<(WorkerConnection, Welcome), any Error>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
    }
}
