/// Why a list of workers could not be made: a `--workers` value, a hostfile, a DNS name or a
/// Slurm allocation that gives no usable address. Each says, in one line, what to fix.
public enum WorkerDiscoveryError: Error, Hashable, CustomStringConvertible {
    /// An entry of a worker list that is not `HOST[:PORT]`, `@FILE`, `dns:NAME[:PORT]` or `slurm`.
    case invalidEntry(String, reason: String)
    /// A hostfile that cannot be read.
    case unreadableHostfile(path: String, reason: String)
    /// A hostfile line that is not `HOST[:PORT]`.
    case invalidHostfileLine(path: String, line: Int, text: String, reason: String)
    /// A Slurm host list that does not parse.
    case invalidHostlist(String, reason: String)
    /// `slurm` outside a Slurm job: `SLURM_JOB_NODELIST` is not set.
    case notInSlurmJob
    /// A DNS name with no A or AAAA record.
    case noAddresses(String)
    /// A DNS lookup that failed: no answer, refused, or a bad name.
    case dnsFailed(String, reason: String)
    /// Every source was read and none named a worker.
    case noWorkers(String)

    public var description: String {
        switch self {
        case .invalidEntry(let entry, let reason): "bad worker '\(entry)': \(reason)"
        case .unreadableHostfile(let path, let reason): "cannot read hostfile \(path): \(reason)"
        case .invalidHostfileLine(let path, let line, let text, let reason):
            "\(path):\(line): bad worker '\(text)': \(reason)"
        case .invalidHostlist(let list, let reason): "bad Slurm host list '\(list)': \(reason)"
        case .notInSlurmJob: "--workers slurm needs a Slurm job: SLURM_JOB_NODELIST is not set"
        case .noAddresses(let name): "DNS name \(name) has no A or AAAA records"
        case .dnsFailed(let name, let reason): "cannot look up \(name): \(reason)"
        case .noWorkers(let list): "no workers in '\(list)'"
        }
    }
}
