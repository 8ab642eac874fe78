/// Why a cluster job could not run.
public enum ClusterError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The cluster has no node able to run the job.
    case noDevices
    /// A node has no program of that name.
    case programUnavailable(String, node: String)
    /// A chunk size outside the supported range.
    case invalidChunkSize(Int, range: ClosedRange<Int>)
    /// A classification batch size outside the supported range.
    case invalidBatchSize(Int, range: ClosedRange<Int>)
    /// The input file does not exist.
    case inputNotFound(String)
    /// The input is a directory.
    case inputIsDirectory(String)
    /// The input file could not be opened or read.
    case inputUnreadable(String, reason: String)
    /// The output file exists and overwriting was not asked for.
    case outputExists(String)
    /// The output could not be created, written or renamed into place.
    case outputUnwritable(String, reason: String)
    /// Input and output are the same file.
    case sameFile(String)
    /// A remote worker was lost (connection refused, reset or frozen); its runs go back
    /// to the queue.
    case workerLost(String, reason: String)
    /// Every device was lost before the job finished.
    case noWorkersLeft(String)
    /// A remote worker could not run an input (the code and message are the worker's).
    case remoteRunFailed(String, code: UInt16, message: String)
    /// A job kind the worker does not know, or one that cannot run remotely.
    case jobNotRemotable(String)

    /// Whether `error` means a worker went away, so its input can run elsewhere.
    public static func isWorkerLoss(_ error: any Error) -> Bool {
        if case .workerLost? = error as? ClusterError { return true }
        return false
    }

    public var description: String {
        switch self {
        case .noDevices: "no device in the cluster can run the job"
        case .programUnavailable(let program, let node): "node \(node) has no \(program) program"
        case .invalidChunkSize(let size, let range):
            "chunk size \(size) is outside \(range.lowerBound)...\(range.upperBound) bytes"
        case .invalidBatchSize(let size, let range):
            "batch size \(size) is outside \(range.lowerBound)...\(range.upperBound) images"
        case .inputNotFound(let path): "\(path): no such file"
        case .inputIsDirectory(let path): "\(path) is a directory"
        case .inputUnreadable(let path, let reason): "\(path): cannot read: \(reason)"
        case .outputExists(let path): "\(path) already exists (use --force to overwrite)"
        case .outputUnwritable(let path, let reason): "\(path): cannot write: \(reason)"
        case .sameFile(let path): "\(path): input and output are the same file"
        case .workerLost(let worker, let reason): "worker \(worker) lost: \(reason)"
        case .noWorkersLeft(let reason): "no device left to finish the job (last: \(reason))"
        case .remoteRunFailed(let worker, _, let message): "worker \(worker) failed a run: \(message)"
        case .jobNotRemotable(let kind): "job \(kind) cannot run on a remote worker"
        }
    }
}
