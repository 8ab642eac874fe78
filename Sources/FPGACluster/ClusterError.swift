/// Why the cluster could not schedule or finish a job on its nodes.
public enum ClusterError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The cluster has no node able to run the job.
    case noDevices
    /// A remote worker was lost (connection refused, reset or frozen); its runs go back
    /// to the queue.
    case workerLost(String, reason: String)
    /// Every device was lost before the job finished.
    case noWorkersLeft(String)
    /// A remote worker could not run an input (the code and message are the worker's).
    case remoteRunFailed(String, code: UInt16, message: String)

    /// Whether `error` means a worker went away, so its input can run elsewhere.
    public static func isWorkerLoss(_ error: any Error) -> Bool {
        if case .workerLost? = error as? ClusterError { return true }
        return false
    }

    public var description: String {
        switch self {
        case .noDevices: "no device in the cluster can run the job"
        case .workerLost(let worker, let reason): "worker \(worker) lost: \(reason)"
        case .noWorkersLeft(let reason): "no device left to finish the job (last: \(reason))"
        case .remoteRunFailed(let worker, _, let message): "worker \(worker) failed a run: \(message)"
        }
    }
}
