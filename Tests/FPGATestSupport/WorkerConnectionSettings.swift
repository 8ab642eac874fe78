import Clocks
import FPGACluster

extension WorkerConnection.Settings {
    /// Settings on `clock` for tests that advance time by hand: 1 s client heartbeats, the
    /// worker lost after 3 of its (1 s) heartbeat intervals of silence, reconnection after
    /// 1, 2 and 4 s within 10 s, and connect and run deadlines far out of the tests' way
    /// unless a test sets them.
    public static func onTestClock(_ clock: TestClock<Duration>) -> Self {
        var settings = WorkerConnection.Settings()
        settings.clock = clock
        settings.heartbeatInterval = .seconds(1)
        settings.missedHeartbeats = 3
        settings.connectTimeout = .seconds(3600)
        settings.runDeadline = .seconds(3600)
        settings.reconnectDelays = [.seconds(1), .seconds(2), .seconds(4)]
        settings.reconnectBudget = .seconds(10)
        return settings
    }
}
