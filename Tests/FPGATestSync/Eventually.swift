/// Polls `condition` until it holds or `limit` passes; returns whether it held. For effects
/// that nothing announces (a thread's exit, a mapping's release, a file appearing): an event
/// shown only by the system. Suspends between polls, so it never blocks a thread of the
/// cooperative pool; the limit only ends a wait that would otherwise hang.
public func eventually(
    within limit: Duration = stuckWaitLimit, _ condition: () throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while try !condition() {
        if ContinuousClock.now > deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}
