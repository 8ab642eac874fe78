#if canImport(Glibc)
    import Glibc
#endif

extension LocalNode {
    /// What the device is doing now: the program loaded and its compute units, inputs
    /// running and queued, totals since the node was made, health, and the last
    /// `seconds` complete seconds of activity (busy time of a stretch still going on
    /// included). `host` names where the device is.
    public func status(host: String, seconds: Int = ActivityHistory.defaultLength) -> DeviceStatus {
        let now = timeline.now
        var history = self.history
        var busy = totals.busy
        if inFlight > 0 {
            history.recordBusy(from: busySince, to: now)
            busy += now - busySince
        }
        let units =
            loadedProgram.flatMap { programs.programs[$0] }?.kernels.reduce(0) { $0 + $1.computeUnits.count } ?? 0
        let running = units == 0 ? inFlight : min(inFlight, units)
        return DeviceStatus(
            host: host, device: name, kind: device.info.kind.rawValue, program: loadedProgram, computeUnits: units,
            running: running, queued: inFlight - running, completed: totals.completed, failed: totals.failed,
            inputBytes: totals.inputBytes, outputBytes: totals.outputBytes,
            busySeconds: Double(busy.components.seconds) + Double(busy.components.attoseconds) / 1e18,
            problem: health.reason, history: history.samples(before: now, count: seconds))
    }

    /// The device's status, with this machine's host name as its host.
    public func status() -> DeviceStatus {
        status(host: Self.hostName)
    }

    /// This machine's host name (`localhost` when the system will not say).
    public static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        buffer[buffer.count - 1] = 0
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }()
}
