import FPGADevice
import FPGAJobs
import FPGATransport

extension Cluster {
    /// A cluster of the devices of the workers `list` names (hostfiles read, DNS names looked
    /// up with `resolver`, the Slurm job's nodes expanded; see ``WorkerList``) and of
    /// `devices` in this process. As with ``init(workers:token:devices:programs:configuration:)``,
    /// workers that cannot be reached are left out and listed in ``unreachableWorkers``.
    ///
    /// ```swift
    /// let cluster = try await Cluster(
    ///     workers: WorkerList(parsing: "dns:fpga-workers.default.svc.cluster.local:7070"),
    ///     token: AuthToken.fromEnvironment())
    /// ```
    public init(
        workers list: WorkerList, token: AuthToken?, devices: [any Device] = [], programs: ProgramLibrary = .builtIn,
        configuration: Configuration = Configuration(), resolver: DNSResolver = .system
    ) async throws {
        let endpoints = try await list.resolve(resolver: resolver)
        try await self.init(
            workers: endpoints.map(\.description), token: token, devices: devices, programs: programs,
            configuration: configuration)
    }
}
