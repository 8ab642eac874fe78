import FPGATransport

/// Why a node could not run a job's input.
public enum NodeError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The node has no program of that name.
    case programUnavailable(String, node: String)
    /// The job has no wire codec (it is not a ``RemoteJob``), so it cannot run on a worker
    /// process's device.
    case notRemotable(String)
    /// A job's settings are not valid: the job's kind and why.
    case invalidParameters(String, reason: String)
    /// A node in this process cannot be recovered: it was not lost with a connection.
    case notRecoverable(node: String)

    public var description: String {
        switch self {
        case .programUnavailable(let program, let node): "node \(node) has no \(program) program"
        case .notRemotable(let job): "job \(job) cannot run on a worker process (it is not a RemoteJob)"
        case .invalidParameters(let kind, let reason): "invalid \(kind) job: \(reason)"
        case .notRecoverable(let node): "node \(node) is a device in this process and cannot be recovered"
        }
    }

    /// The code a worker process answers a run with when it fails with this error.
    public var wireCode: WireErrorCode {
        switch self {
        case .programUnavailable: .unknownJob
        case .notRemotable, .invalidParameters: .invalidParameters
        case .notRecoverable: .deviceFailed
        }
    }
}
