import FPGATransport

extension DeviceStatus {
    /// The status as a STATUS_REPORT entry for device `index` (the host is not sent: the
    /// client names the worker as it reached it). Counts too large for the wire are
    /// clamped, a busy time to whole nanoseconds, a busy fraction to 1/10000ths, and the
    /// history to its last `StatusReport.maxSamples` seconds.
    public func report(index: UInt16) -> StatusReport.Device {
        // NaN and negative times are none; more than 570 years, or infinite, is the most the wire holds.
        let nanoseconds: UInt64 =
            busySeconds.isNaN || busySeconds <= 0 ? 0 : busySeconds < 1.8e10 ? UInt64(busySeconds * 1e9) : .max
        return StatusReport.Device(
            index: index, name: device, kind: kind, program: program, computeUnits: UInt32(clamping: computeUnits),
            running: UInt32(clamping: running), queued: UInt32(clamping: queued), completed: completed, failed: failed,
            inputBytes: inputBytes, outputBytes: outputBytes, busyNanoseconds: nanoseconds, problem: problem,
            history: history.suffix(StatusReport.maxSamples).map { sample in
                let busy = sample.busy.isFinite ? min(1, max(0, sample.busy)) : 0
                return StatusReport.Sample(
                    inputBytes: sample.inputBytes, outputBytes: sample.outputBytes, completed: sample.completed,
                    busy: UInt16((busy * Double(StatusReport.busyScale)).rounded()))
            })
    }

    /// The status a STATUS_REPORT entry describes, for the device at `host`.
    public init(report: StatusReport.Device, host: String) {
        self.init(
            host: host, device: report.name, kind: report.kind, program: report.program,
            computeUnits: Int(report.computeUnits), running: Int(report.running), queued: Int(report.queued),
            completed: report.completed, failed: report.failed, inputBytes: report.inputBytes,
            outputBytes: report.outputBytes, busySeconds: Double(report.busyNanoseconds) / 1e9,
            problem: report.problem,
            history: report.history.map { sample in
                ActivityHistory.Sample(
                    inputBytes: sample.inputBytes, outputBytes: sample.outputBytes, completed: sample.completed,
                    busy: Double(sample.busy) / Double(StatusReport.busyScale))
            })
    }
}
