import FPGAJobs
import FPGATransport

/// A device of a worker process, as a node: each input crosses the wire in a RUN frame
/// and its output comes back in a RESULT, over the worker process's
/// ``WorkerConnection`` (which the process's other devices share).
///
/// The job must be a ``RemoteJob``: its wire codec encodes the settings and inputs here
/// and the worker process rebuilds the job from them and runs it on its own
/// ``LocalNode``.
public actor RemoteNode: DeviceNode {
    /// The worker process's address and the device's name: `10.0.0.7:7070/sim0`.
    public nonisolated let name: String
    /// The connection to the worker process.
    public nonisolated let connection: WorkerConnection
    /// The device's index in the worker process's WELCOME.
    public nonisolated let deviceIndex: Int
    /// A lost connection can be made again: the cluster waits for ``recover()``.
    public nonisolated var canRecover: Bool { true }

    /// Inputs completed, by program.
    public private(set) var completed: [String: Int] = [:]

    /// Inputs of one program kept in flight beyond its announced capacity: one crosses
    /// the wire while the device works on the others.
    public static let inputsOnTheWire = 1

    /// A node for device `deviceIndex` of the worker process behind `connection`.
    public init(connection: WorkerConnection, deviceIndex: Int, name: String) {
        self.name = name
        self.connection = connection
        self.deviceIndex = deviceIndex
    }

    /// The capacity the worker process announced for the job's program on this device,
    /// plus ``inputsOnTheWire``. Throws ``NodeError/notRemotable(_:)`` when the job has no
    /// wire codec and ``NodeError/programUnavailable(_:node:)`` when the device lacks the
    /// program.
    public func capacity<Job: DeviceJob>(for job: Job) async throws -> Int {
        guard try job.wire != nil else { throw NodeError.notRemotable("\(Job.self)") }
        return try await connection.capacity(ofDevice: deviceIndex, program: job.program) + Self.inputsOnTheWire
    }

    /// Runs one input of `job` on the worker process's device.
    public func run<Job: DeviceJob>(_ job: Job, _ input: Job.Input) async throws -> Job.Output {
        guard let wire = try job.wire else { throw NodeError.notRemotable("\(Job.self)") }
        let payload = try await connection.run(
            device: deviceIndex, kind: wire.kind, parameters: wire.parameters, payload: try wire.encodeInput(input))
        let output = try wire.decodeOutput(payload)
        completed[job.program, default: 0] += 1
        return output
    }

    /// What the device is doing, as the worker process reports it in a STATUS_REPORT
    /// (host: the worker's address as the cluster reaches it). When the report cannot be
    /// had (the worker is unreachable, or does not answer in time), what its WELCOME said
    /// of the device, with ``DeviceStatus/problem`` saying why in one line.
    public func status() async -> DeviceStatus {
        let host = connection.endpoint.description
        let reason: String
        do {
            if let status = try await connection.status(ofDevice: deviceIndex) { return status }
            reason = "the worker no longer reports device \(deviceIndex)"
        } catch TransportError.timedOut(let what) {
            reason = "timed out: \(what)"
        } catch {
            reason = "unreachable: \(error)"
        }
        let device = await connection.welcome?.devices.first { Int($0.index) == deviceIndex }
        return DeviceStatus(
            host: host, device: device?.name ?? deviceName, kind: device?.kind.rawValue ?? "unknown",
            problem: reason)
    }

    /// The device's name without its worker's address: `sim0` of `10.0.0.7:7070/sim0`.
    private nonisolated var deviceName: String {
        name.split(separator: "/").last.map(String.init) ?? name
    }

    /// The programs the worker process's WELCOME lists for this device.
    public func programNames() async -> [String] {
        await connection.programNames(ofDevice: deviceIndex)
    }

    /// Returns once the worker process is connected again, or throws
    /// ``ClusterError/workerLost(_:reason:)`` when it stays unreachable.
    public func recover() async throws {
        try await connection.reconnect()
    }
}
