import FPGAExecution
import Synchronization

/// The two sides of one simulated buffer object, kept by the device's ``LoadedProgram``.
///
/// `@unchecked Sendable`: `host` is only touched on the device actor. `device` is touched
/// on the device actor (sync) only while the loaded program counts no run in flight on the
/// buffer, and by a compute unit only while its run is counted; the actor starts runs, and
/// refuses sync and free while the count is non-zero, so the two never overlap.
package final class SimulatedBuffer: BufferStorage, @unchecked Sendable {
    /// The two sides, freed when the last reference goes: the loaded program's table, or a
    /// run still using the buffer after the device itself was released.
    private let hostMemory: BulkMemory
    private let deviceMemory: BulkMemory
    package var host: UnsafeMutableRawBufferPointer { hostMemory.bytes }
    var device: UnsafeMutableRawBufferPointer { deviceMemory.bytes }

    init(size: Int) {
        // Fresh memory holds zeros here (a real card's holds whatever was there). Large
        // sides are mapped lazily (in huge pages where the host has them), so untouched
        // parts of a buffer cost no resident memory. Each side has `guardBytes` of zeros
        // past its end that no one writes, so a kernel library that reads a few bytes past
        // its input sees the same bytes every time.
        hostMemory = BulkMemory(byteCount: size, zeroedTail: Self.guardBytes)
        deviceMemory = BulkMemory(byteCount: size, zeroedTail: Self.guardBytes)
    }

    /// Zeroed bytes allocated past the end of each side.
    static let guardBytes = 64
}

/// What a simulated compute unit has beyond what the ``LoadedProgram`` knows of it: its
/// software kernel, and its own thread, running one run at a time in start order.
struct SimulatedComputeUnit: Sendable {
    let implementation: any SoftwareKernel
    let thread: BlockingThreadPool
}

/// The state of one run, shared between the device actor, the compute unit thread and
/// the tasks waiting for it.
final class SimulatedRun: Sendable {
    private struct State {
        var state: RunState = .queued
        var failure: String?
        var waiters: [UInt64: CheckedContinuation<RunState, any Error>] = [:]
        var timers: [UInt64: Task<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }
    private let state = Mutex(State())

    var failure: String? { state.withLock { $0.failure } }

    var current: RunState { state.withLock { $0.state } }

    func setRunning() { state.withLock { $0.state = .running } }

    func finish(failure: String?) {
        let (waiters, final) = state.withLock { state in
            state.state = failure == nil ? .completed : .error
            state.failure = failure
            defer {
                state.waiters = [:]
                for timer in state.timers.values { timer.cancel() }
                state.timers = [:]
            }
            return (Array(state.waiters.values), state.state)
        }
        for waiter in waiters { waiter.resume(returning: final) }
    }

    /// Waits until the run is final, or until `deadline` (on the device's clock) passes:
    /// `.timeout` then.
    func wait(deadline: ClockDeadline?) async throws -> RunState {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RunState, any Error>) in
                let ready: RunState? = state.withLock { state in
                    if state.state.isFinal { return state.state }
                    if Task.isCancelled { return nil }
                    if deadline?.hasPassed == true { return .timeout }
                    state.waiters[id] = continuation
                    return .new
                }
                switch ready {
                case nil: continuation.resume(throwing: CancellationError())
                case .new?:
                    if let deadline {
                        let timer = Task { [self] in
                            guard (try? await deadline.sleep()) != nil else { return }
                            self.resumeWaiter(id, with: .success(.timeout))
                        }
                        state.withLock { state in
                            if state.waiters[id] != nil { state.timers[id] = timer } else { timer.cancel() }
                        }
                    }
                case let final?: continuation.resume(returning: final)
                }
            }
        } onCancel: {
            resumeWaiter(id, with: .failure(CancellationError()))
        }
    }

    private func resumeWaiter(_ id: UInt64, with result: Result<RunState, any Error>) {
        let waiter = state.withLock { state in
            state.timers.removeValue(forKey: id)?.cancel()
            return state.waiters.removeValue(forKey: id)
        }
        waiter?.resume(with: result)
    }
}
