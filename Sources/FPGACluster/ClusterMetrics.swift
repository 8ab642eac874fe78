import CoreMetrics

/// The cluster's own metrics:
///
/// | Metric | Type | What it counts |
/// | --- | --- | --- |
/// | `fpgacluster_jobs_started_total` | counter | jobs started, labelled `job` (`gzip`, `gunzip`, `cnv`, a job's kind) |
/// | `fpgacluster_jobs_failed_total` | counter | jobs that ended with an error, labelled `job` |
/// | `fpgacluster_inputs_requeued_total` | counter | inputs sent back to the queue after their node was lost, labelled `node` |
struct ClusterMetrics: Sendable {
    let factory: any MetricsFactory

    func jobStarted(_ job: String) {
        Counter(label: "fpgacluster_jobs_started_total", dimensions: [("job", job)], factory: factory).increment()
    }

    func jobFailed(_ job: String) {
        Counter(label: "fpgacluster_jobs_failed_total", dimensions: [("job", job)], factory: factory).increment()
    }

    func inputRequeued(_ node: String) {
        Counter(label: "fpgacluster_inputs_requeued_total", dimensions: [("node", node)], factory: factory)
            .increment()
    }
}
