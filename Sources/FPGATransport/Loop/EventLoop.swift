internal import CLibUV
import FPGAExecution
import Synchronization

/// A libuv event loop on a thread of its own, which owns every libuv handle made on it.
///
/// Other threads never touch a handle: they hand the loop a closure with ``execute(_:)``,
/// which queues it and wakes the loop with `uv_async_send`; the loop runs queued closures
/// in order. Sockets are watched with `uv_poll_t`, so reads and writes go straight
/// between the kernel and their final buffers.
public final class EventLoop: Sendable {
    private let core: LoopCore

    /// Starts the loop's thread; returns once the loop is ready.
    public init(name: String = "fpga-uv") {
        core = LoopCore()
        let core = self.core
        let ready = OneShotEvent()
        startDedicatedThread(name: name) {
            core.run(ready: ready)
        }
        ready.wait()
    }

    deinit {
        core.stop()
    }

    /// Runs `work` on the loop's thread, after the work queued before it.
    public func execute(_ work: @escaping @Sendable (LoopContext) -> Void) {
        core.enqueue(work)
    }

    /// Runs `work` on the loop's thread and returns its result.
    public func submit<T: Sendable>(_ work: @escaping @Sendable (LoopContext) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            execute { context in continuation.resume(with: Result { try work(context) }) }
        }
    }

    /// The loop shared by a process's connections.
    public static let shared = EventLoop(name: "fpga-uv")
}

/// What loop-thread code gets: the libuv loop. Valid only on the loop's thread, inside the
/// closure it was given to.
public struct LoopContext {
    let loop: UnsafeMutablePointer<uv_loop_t>
}

/// The loop itself.
///
/// `@unchecked Sendable`: `loop` and `wakeup` are only used on the loop thread, except
/// `uv_async_send`, which libuv documents as safe from any thread; `queue` and `stopping`
/// are guarded by `lock`.
private final class LoopCore: @unchecked Sendable {
    let loop: UnsafeMutablePointer<uv_loop_t>
    let wakeup: UnsafeMutablePointer<uv_async_t>
    private let lock = Mutex<(queue: [@Sendable (LoopContext) -> Void], stopping: Bool, started: Bool)>(
        ([], false, false))

    init() {
        loop = .allocate(capacity: 1)
        wakeup = .allocate(capacity: 1)
    }

    func run(ready: OneShotEvent) {
        uv_loop_init(loop)
        wakeup.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_async_init(loop, wakeup) { handle in
            let core = Unmanaged<LoopCore>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            core.drain()
        }
        lock.withLock { $0.started = true }
        ready.set()
        uv_run(loop, UV_RUN_DEFAULT)
        uv_loop_close(loop)
        loop.deallocate()
        wakeup.deallocate()
    }

    func enqueue(_ work: @escaping @Sendable (LoopContext) -> Void) {
        lock.withLock { $0.queue.append(work) }
        uv_async_send(wakeup)
    }

    func stop() {
        lock.withLock { $0.stopping = true }
        uv_async_send(wakeup)
    }

    /// On the loop thread: runs the queued work; on stop, closes every handle so that
    /// `uv_run` returns.
    private func drain() {
        while true {
            let (work, stopping) = lock.withLock { state -> ([@Sendable (LoopContext) -> Void], Bool) in
                defer { state.queue = [] }
                return (state.queue, state.stopping)
            }
            if work.isEmpty {
                if stopping {
                    uv_walk(
                        loop,
                        { handle, _ in
                            if uv_is_closing(handle) == 0 { uv_close(handle, nil) }
                        }, nil)
                }
                return
            }
            let context = LoopContext(loop: loop)
            for item in work { item(context) }
        }
    }
}
