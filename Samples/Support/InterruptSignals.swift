import CPlatform
import FPGAExecution
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs an action on SIGINT or SIGTERM instead of letting them end the process, so a
/// tool can cancel its job (and remove partial output) or shut down cleanly.
///
/// The signals are caught from the moment `init` returns, by a handler that only writes
/// the signal's number to CPlatform's signal pipe; one thread per process reads the pipe
/// and runs the action. Not Dispatch signal sources: on Linux libdispatch installs their
/// handler only when its manager thread gets to register the source, and a signal that
/// comes first meets the SIG_IGN that has to be set beforehand and is lost (a worker told
/// to stop right after it started never stopped). One instance at a time.
public final class InterruptSignals: Sendable {
    private static let numbers = [SIGINT, SIGTERM]
    /// The running instance's action, which the reading thread calls for each signal.
    private static let current = Mutex<(owner: ObjectIdentifier, action: @Sendable () -> Void)?>(nil)
    /// The thread that reads the signal pipe, started by the first instance, for the
    /// life of the process (it only ever waits in `read`).
    private static let reader: Void = {
        let pipe = cplatform_signal_pipe()
        precondition(pipe >= 0, "no signal pipe: \(String(cString: strerror(errno)))")
        startDedicatedThread(name: "fpga-signals") {
            var byte: UInt8 = 0
            while true {
                let count = read(pipe, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                guard count == 1 else { return }
                // A signal that comes after stop() has nothing to run.
                current.withLock { $0?.action }?()
            }
        }
    }()

    public init(_ action: @escaping @Sendable () -> Void) {
        _ = Self.reader
        let owner = ObjectIdentifier(self)
        Self.current.withLock { current in
            precondition(current == nil, "one InterruptSignals at a time")
            current = (owner, action)
        }
        for number in Self.numbers {
            precondition(cplatform_signal_route(number) == 0, "cannot catch signal \(number)")
        }
    }

    /// Stops handling the signals: they get back the action they had before.
    public func stop() {
        let owner = ObjectIdentifier(self)
        let wasRunning = Self.current.withLock { current in
            guard current?.owner == owner else { return false }
            current = nil
            return true
        }
        guard wasRunning else { return }
        for number in Self.numbers { _ = cplatform_signal_restore(number) }
    }

    deinit { stop() }
}

/// Runs `work` in a task that SIGINT or SIGTERM cancels, with the signals caught from
/// before the task starts: a signal at any moment of the work cancels it (the tool then
/// removes its partial output) rather than ending the process.
public func runCancellingOnInterrupt<Value: Sendable>(
    _ work: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let state = Mutex<(task: Task<Value, any Error>?, interrupted: Bool)>((nil, false))
    let signals = InterruptSignals {
        let task = state.withLock { state in
            state.interrupted = true
            return state.task
        }
        task?.cancel()
    }
    defer { signals.stop() }
    let task = Task(operation: work)
    let interruptedAlready = state.withLock { state in
        state.task = task
        return state.interrupted
    }
    if interruptedAlready { task.cancel() }
    return try await task.value
}
