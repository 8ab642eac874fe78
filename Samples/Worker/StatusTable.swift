import FPGAJobs
import SampleSupport

/// The `fpga-worker status` table: one row per device, columns aligned, and a PROBLEM
/// column when any device has one (an unhealthy device, an unreachable worker).
enum StatusTable {
    /// The columns, in order.
    static let columns = [
        "HOST", "DEVICE", "KIND", "PROGRAM", "CUS", "BUSY", "QUEUED", "COMPLETED", "FAILED", "BYTES/S",
    ]
    /// The columns whose values are numbers, aligned right.
    private static let numeric: Set<String> = ["CUS", "BUSY", "QUEUED", "COMPLETED", "FAILED", "BYTES/S"]

    /// The table's lines, header first, each ending with a newline.
    static func render(_ statuses: [DeviceStatus]) -> String {
        let showProblems = statuses.contains { $0.problem != nil }
        let header = columns + (showProblems ? ["PROBLEM"] : [])
        let rows = statuses.map { cells($0) + (showProblems ? [$0.problem ?? ""] : []) }
        var widths = header.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return numeric.contains(header[column]) ? padding + cell : cell + padding
            }
            // No trailing spaces: a row without a problem ends at its last number.
            var text = padded.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text + "\n"
        }
        return line(header) + rows.map(line).joined()
    }

    /// A device's cells, without its problem. A row for a worker that gave no report (its
    /// device is empty) has dashes for everything it did not say.
    static func cells(_ status: DeviceStatus) -> [String] {
        guard !status.device.isEmpty else {
            return [status.host] + Array(repeating: "-", count: columns.count - 1)
        }
        return [
            status.host, status.device, status.kind, status.program ?? "-", "\(status.computeUnits)",
            percent(status.recentBusy), "\(status.queued)", "\(status.completed)", "\(status.failed)",
            rate(status.recentInputBytesPerSecond),
        ]
    }

    /// `37%`.
    static func percent(_ fraction: Double) -> String {
        "\(Int((min(1, max(0, fraction)) * 100).rounded()))%"
    }

    /// `1.5 MiB/s`, `0 B/s`.
    static func rate(_ bytesPerSecond: Double) -> String {
        ByteCount.format(Int(max(0, min(bytesPerSecond, 1e18)).rounded())) + "/s"
    }

    /// The header line of a `--watch` screen: the time, how many workers answered, and
    /// the devices' totals.
    static func summary(_ statuses: [DeviceStatus], workers: Int, answered: Int, time: String) -> String {
        let devices = statuses.filter { !$0.device.isEmpty }
        let busy = devices.isEmpty ? 0 : devices.reduce(0) { $0 + $1.recentBusy } / Double(devices.count)
        let completed = devices.reduce(UInt64(0)) { $0 &+ $1.completed }
        let failed = devices.reduce(UInt64(0)) { $0 &+ $1.failed }
        let bytes = devices.reduce(0) { $0 + $1.recentInputBytesPerSecond }
        return
            "fpga-worker status  \(time)  workers \(answered)/\(workers)  devices \(devices.count)  busy \(percent(busy))  "
            + "completed \(completed)  failed \(failed)  \(rate(bytes))\n"
    }
}
