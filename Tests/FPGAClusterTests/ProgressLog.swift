import FPGACluster
import Synchronization

/// Records progress reports from any thread.
final class ProgressLog: Sendable {
    private let reports = Mutex<[JobProgress]>([])
    func record(_ progress: JobProgress) { reports.withLock { $0.append(progress) } }
    var all: [JobProgress] { reports.withLock { $0 } }
}
