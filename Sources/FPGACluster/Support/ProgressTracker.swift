import Synchronization

/// Counts delivered work and forwards it to a progress handler.
final class ProgressTracker: Sendable {
    private let total: Int?
    private let handler: ProgressHandler?
    private let state = Mutex((bytes: 0, chunks: 0))

    init(total: Int?, handler: ProgressHandler?) {
        self.total = total
        self.handler = handler
    }

    var bytesDone: Int { state.withLock { $0.bytes } }

    func advance(by bytes: Int) {
        let now = state.withLock { state in
            state.bytes += bytes
            state.chunks += 1
            return state
        }
        handler?(JobProgress(bytesDone: now.bytes, bytesTotal: total, chunksDone: now.chunks))
    }
}
