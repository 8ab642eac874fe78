import CoreMetrics
import FPGADevice

/// The metrics of one device running one program, named after Prometheus's conventions
/// (base units, `_total` for counters, labels rather than names for the device):
///
/// | Metric | Type | What it counts |
/// | --- | --- | --- |
/// | `fpgacluster_device_runs_started_total` | counter | inputs handed to the device's driver |
/// | `fpgacluster_device_runs_completed_total` | counter | inputs that gave an output |
/// | `fpgacluster_device_runs_failed_total` | counter | inputs whose run threw |
/// | `fpgacluster_device_input_bytes_total` | counter | bytes of the inputs, for jobs that count bytes |
/// | `fpgacluster_device_output_bytes_total` | counter | bytes of the outputs, for jobs that count bytes |
/// | `fpgacluster_device_run_duration_seconds` | timer | one input, from the driver's call to its return |
/// | `fpgacluster_device_busy_seconds_total` | counter | time with at least one input in the driver (its rate is the busy fraction) |
/// | `fpgacluster_device_runs_in_flight` | gauge | inputs in the driver now, running or waiting for a compute unit |
///
/// Every metric has the labels `device` (its name), `kind` (`simulated` or `xrt`) and
/// `program` (the loaded program's name), and a real card's also `bdf` (its PCIe address,
/// where XRT reports it). The host is the scrape target's `instance`.
struct DeviceMetrics: Sendable {
    let runsStarted: Counter
    let runsCompleted: Counter
    let runsFailed: Counter
    let inputBytes: Counter
    let outputBytes: Counter
    let runDuration: CoreMetrics.Timer
    let busySeconds: FloatingPointCounter
    let runsInFlight: Meter

    /// The prefix of every device metric's label.
    static let prefix = "fpgacluster_device_"

    init(device: DeviceInfo, program: String, factory: any MetricsFactory) {
        var dimensions = [("device", device.name), ("kind", device.kind.rawValue), ("program", program)]
        if let address = device.pciAddress { dimensions.append(("bdf", address)) }
        func counter(_ name: String) -> Counter {
            Counter(label: Self.prefix + name, dimensions: dimensions, factory: factory)
        }
        runsStarted = counter("runs_started_total")
        runsCompleted = counter("runs_completed_total")
        runsFailed = counter("runs_failed_total")
        inputBytes = counter("input_bytes_total")
        outputBytes = counter("output_bytes_total")
        runDuration = CoreMetrics.Timer(
            label: Self.prefix + "run_duration_seconds", dimensions: dimensions, factory: factory)
        busySeconds = FloatingPointCounter(
            label: Self.prefix + "busy_seconds_total", dimensions: dimensions, factory: factory)
        runsInFlight = Meter(label: Self.prefix + "runs_in_flight", dimensions: dimensions, factory: factory)
    }
}
