import FPGAExecution

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// The two sides of one simulated buffer object.
///
/// `@unchecked Sendable`: `host` is only touched on the device actor. `device` is touched
/// on the device actor (sync) only while `runsUsing` is zero, and by a compute unit only
/// while its run holds a count in `runsUsing`; the actor starts runs, and refuses sync
/// and free while the count is non-zero, so the two never overlap.
final class SimulatedBuffer: @unchecked Sendable {
    let size: Int
    let host: UnsafeMutableRawBufferPointer
    let device: UnsafeMutableRawBufferPointer
    let runsUsing = Atomic<Int>(0)

    init(size: Int) {
        self.size = size
        // Fresh memory holds zeros here (a real card's holds whatever was there). calloc
        // maps large blocks lazily, so untouched parts of a buffer cost no resident memory.
        host = UnsafeMutableRawBufferPointer(start: calloc(size, 1)!, count: size)
        device = UnsafeMutableRawBufferPointer(start: calloc(size, 1)!, count: size)
    }

    func deallocate() {
        free(host.baseAddress)
        free(device.baseAddress)
    }
}

/// One compute unit: its own thread, running one run at a time in start order.
final class SimulatedComputeUnit: Sendable {
    let name: String
    let index: Int
    let implementation: any SoftwareKernel
    let thread: BlockingThreadPool
    /// Runs started and not yet finished.
    let pending = Atomic<Int>(0)

    init(name: String, index: Int, implementation: any SoftwareKernel, thread: BlockingThreadPool) {
        self.name = name
        self.index = index
        self.implementation = implementation
        self.thread = thread
    }
}

/// The state of one run, shared between the device actor, the compute unit thread and
/// the tasks waiting for it.
final class SimulatedRun: Sendable {
    private struct State {
        var state: RunState = .queued
        var failure: String?
        var waiters: [UInt64: CheckedContinuation<RunState, any Error>] = [:]
        var nextWaiter: UInt64 = 0
    }
    private let state = Mutex(State())

    var failure: String? { state.withLock { $0.failure } }

    func setRunning() { state.withLock { $0.state = .running } }

    func finish(failure: String?) {
        let (waiters, final) = state.withLock { state in
            state.state = failure == nil ? .completed : .error
            state.failure = failure
            defer { state.waiters = [:] }
            return (Array(state.waiters.values), state.state)
        }
        for waiter in waiters { waiter.resume(returning: final) }
    }

    func wait(timeout: Duration?) async throws -> RunState {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RunState, any Error>) in
                let ready: RunState? = state.withLock { state in
                    if state.state.isFinal { return state.state }
                    if Task.isCancelled { return nil }
                    state.waiters[id] = continuation
                    return .new
                }
                switch ready {
                case nil: continuation.resume(throwing: CancellationError())
                case .new?:
                    if let timeout {
                        Task { [self] in
                            try? await Task.sleep(for: timeout)
                            self.resumeWaiter(id, with: .success(.timeout))
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
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume(with: result)
    }
}
