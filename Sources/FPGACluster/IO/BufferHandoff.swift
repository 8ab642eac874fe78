import FPGAExecution

/// Passes filled buffers from one producer on a dedicated thread to one async consumer,
/// in order, and the emptied buffers back, with a fixed set of buffers: the producer
/// blocks (its thread, never the cooperative pool) while every buffer is full or being
/// consumed, and the consumer suspends while none is full.
///
/// Either side can end the hand-off: the producer with ``finish()`` after its last
/// buffer, or with ``fail(_:)``; the consumer with ``fail(_:)`` (a write failed, the job
/// was cancelled), which wakes a blocked producer with the error.
///
/// `@unchecked Sendable`: every field is read and written only while `lock` is held, and
/// a continuation is resumed once, after it has been taken out of the state under the lock.
final class BufferHandoff: @unchecked Sendable {
    /// A filled buffer: its first `count` bytes.
    typealias Filled = (buffer: IOBuffer, count: Int)

    private let lock = ConditionLock()
    private var empty: [IOBuffer]
    private var full: [Filled] = []
    private var finished = false
    private var failure: (any Error)?
    private var consumer: CheckedContinuation<Filled?, any Error>?

    /// A hand-off with `count` buffers of `size` bytes.
    init(buffers count: Int, size: Int) {
        empty = (0..<count).map { _ in IOBuffer(size: size) }
    }

    // MARK: Producer (a dedicated thread)

    /// An empty buffer to fill; blocks while there is none. Throws the hand-off's failure.
    func takeEmpty() throws -> IOBuffer {
        lock.lock()
        defer { lock.unlock() }
        while empty.isEmpty && failure == nil { lock.wait() }
        if let failure { throw failure }
        return empty.removeLast()
    }

    /// Hands the first `count` bytes of `buffer` to the consumer.
    func put(_ buffer: IOBuffer, count: Int) {
        lock.lock()
        if let waiting = consumer {
            consumer = nil
            lock.unlock()
            waiting.resume(returning: (buffer, count))
            return
        }
        full.append((buffer, count))
        lock.unlock()
    }

    /// Says no buffer follows the ones put.
    func finish() {
        lock.lock()
        finished = true
        let waiting = consumer
        consumer = nil
        lock.unlock()
        waiting?.resume(returning: nil)
    }

    // MARK: Consumer (an async task)

    /// The next filled buffer in order, or nil once the producer finished and every
    /// buffer was taken. Throws the hand-off's failure.
    func nextFull() async throws -> Filled? {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if let failure {
                lock.unlock()
                continuation.resume(throwing: failure)
            } else if !full.isEmpty {
                let next = full.removeFirst()
                lock.unlock()
                continuation.resume(returning: next)
            } else if finished {
                lock.unlock()
                continuation.resume(returning: nil)
            } else {
                consumer = continuation
                lock.unlock()
            }
        }
    }

    /// Opens the hand-off for another run of buffers after ``nextFull()`` returned nil:
    /// one hand-off, and its buffers, serve a job's every sequential stretch.
    func restart() {
        lock.withLock {
            precondition(finished && full.isEmpty, "restart() before the consumer took every buffer")
            finished = false
        }
    }

    /// Gives an emptied buffer back to the producer.
    func giveBack(_ buffer: IOBuffer) {
        lock.withLock {
            empty.append(buffer)
            lock.signal()
        }
    }

    // MARK: Either side

    /// Ends the hand-off with `error` (the first failure wins): a blocked producer and a
    /// waiting consumer are woken with it.
    func fail(_ error: any Error) {
        lock.lock()
        if failure == nil { failure = error }
        let waiting = consumer
        consumer = nil
        lock.broadcast()
        let first = failure!
        lock.unlock()
        waiting?.resume(throwing: first)
    }
}
