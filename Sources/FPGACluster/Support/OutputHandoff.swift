import Synchronization

/// Hands a job's outputs to the one task consuming them, one at a time and without a
/// buffer: ``send(_:)`` returns only once the consumer has taken the output. A pipeline
/// whose sink sends here counts an output as delivered only when it is consumed, so its
/// window bounds what a slow consumer leaves in memory.
final class OutputHandoff<Element: Sendable>: Sendable {
    private struct State {
        /// An output waiting for the consumer, with its sender.
        var offer: (element: Element, sender: CheckedContinuation<Void, any Error>)?
        /// The consumer, waiting for an output.
        var receiver: CheckedContinuation<Element?, any Error>?
        /// How the producer ended: an error is handed out once, then only nil.
        var end: Result<Void, any Error>?
    }
    private let state = Mutex(State())

    /// What a sender does once it has looked at the state.
    private enum SendAction {
        case cancel, wait
        case hand(CheckedContinuation<Element?, any Error>)
    }

    /// What a receiver does once it has looked at the state.
    private enum ReceiveAction {
        case wait
        case take(Element, CheckedContinuation<Void, any Error>)
        case end(Result<Element?, any Error>)
    }

    /// Hands `element` to the consumer and returns once it has taken it. Throws
    /// `CancellationError` if the sending task is cancelled first.
    func send(_ element: Element) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (sender: CheckedContinuation<Void, any Error>) in
                let action: SendAction = state.withLock { state in
                    if Task.isCancelled { return .cancel }
                    if let receiver = state.receiver {
                        state.receiver = nil
                        return .hand(receiver)
                    }
                    state.offer = (element, sender)
                    return .wait
                }
                switch action {
                case .cancel: sender.resume(throwing: CancellationError())
                case .wait: break
                case .hand(let receiver):
                    receiver.resume(returning: element)
                    sender.resume()
                }
            }
        } onCancel: {
            // One sender at a time (the pipeline's sink calls are serial): any offer is ours.
            let sender = state.withLock { state in
                defer { state.offer = nil }
                return state.offer?.sender
            }
            sender?.resume(throwing: CancellationError())
        }
    }

    /// Says no more outputs will come, and why.
    func finish(_ end: Result<Void, any Error>) {
        let receiver = state.withLock { state -> CheckedContinuation<Element?, any Error>? in
            guard state.end == nil else { return nil }
            guard let receiver = state.receiver else {
                state.end = end
                return nil
            }
            // The waiting consumer gets the end now; later calls get nil.
            state.receiver = nil
            state.end = .success(())
            return receiver
        }
        receiver?.resume(with: end.map { _ in nil })
    }

    /// The next output, or nil once the producer finished; rethrows the producer's error
    /// once. Throws `CancellationError` if the consuming task is cancelled first.
    func receive() async throws -> Element? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (receiver: CheckedContinuation<Element?, any Error>) in
                let action: ReceiveAction = state.withLock { state in
                    if let offer = state.offer {
                        state.offer = nil
                        return .take(offer.element, offer.sender)
                    }
                    if let end = state.end {
                        state.end = .success(())
                        return .end(end.map { _ in nil })
                    }
                    if Task.isCancelled { return .end(.failure(CancellationError())) }
                    // As with the standard library's streams, one task iterates at a time.
                    precondition(state.receiver == nil, "a Cluster.run stream iterated by more than one task at once")
                    state.receiver = receiver
                    return .wait
                }
                switch action {
                case .wait: break
                case .take(let element, let sender):
                    sender.resume()
                    receiver.resume(returning: element)
                case .end(let result): receiver.resume(with: result)
                }
            }
        } onCancel: {
            let receiver = state.withLock { state in
                defer { state.receiver = nil }
                return state.receiver
            }
            receiver?.resume(throwing: CancellationError())
        }
    }
}
