import CoreMetrics

/// The metrics of the cluster's connection to one worker process, labelled `worker`
/// (`HOST:PORT`):
///
/// | Metric | Type | What it counts |
/// | --- | --- | --- |
/// | `fpgacluster_worker_connections_lost_total` | counter | connections lost: refused, reset, frozen or a run past its deadline |
/// | `fpgacluster_worker_heartbeats_missed_total` | counter | times the worker went silent for the configured number of heartbeats |
/// | `fpgacluster_worker_reconnects_total` | counter | connections made again after a loss |
struct ConnectionMetrics: Sendable {
    let connectionsLost: Counter
    let heartbeatsMissed: Counter
    let reconnects: Counter

    init(worker: String, factory: any MetricsFactory) {
        let dimensions = [("worker", worker)]
        connectionsLost = Counter(
            label: "fpgacluster_worker_connections_lost_total", dimensions: dimensions, factory: factory)
        heartbeatsMissed = Counter(
            label: "fpgacluster_worker_heartbeats_missed_total", dimensions: dimensions, factory: factory)
        reconnects = Counter(label: "fpgacluster_worker_reconnects_total", dimensions: dimensions, factory: factory)
    }
}
