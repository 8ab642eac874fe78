/// Waits until `condition`, which may ask another process (an HTTP query, say), holds:
/// checked every `interval` until it does. Throws a failure naming `event` if `bound`
/// passes first; an error the condition throws ends the wait at once.
public func waitUntil(
    _ event: String, within bound: Duration = ChildProcess.watchdog, every interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + bound
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw ToolFailure("no \(event) within \(bound)") }
        try await Task.sleep(for: interval)
    }
}
