import Testing

/// How long a test waits on the real clock for an event (a frame, a connect, a run, a child's
/// exit) before it calls the wait stuck and fails, naming what it waited for.
///
/// No result depends on it: it only ends a wait that would otherwise never end, so it sits far
/// beyond the slowest healthy wait ever seen rather than near a typical one. The whole suite
/// runs in parallel in one process, so a wait that takes microseconds alone also waits for
/// its turn on the cooperative pool behind everything else the suite computes: on a 2-core
/// machine loaded by `stress-ng --cpu 2` (`make test-stress`), a loopback connect to an
/// in-process worker once waited 48 s, past the 30 s bound the tests then had (5 s before
/// that). Five minutes is six times that, shorter than ``stuckTestLimit`` so that the wait is
/// named before its test is cut off, and both are inside the 15-minute watchdog with which
/// `make test` ends a run that hangs anyway.
public let stuckWaitLimit: Duration = .seconds(300)

/// The time limit of every test and suite that waits for events on the real clock: past
/// ``stuckWaitLimit``, so a stuck wait fails with its own message first, and inside
/// `make test`'s 15-minute watchdog. Like ``stuckWaitLimit`` it only ends a test that hangs.
public let stuckTestLimit: TimeLimitTrait.Duration = .minutes(10)
