/// Hands out an async sequence's elements with consecutive indices from 0, for a pipeline's
/// source.
///
/// The pipeline's dispatcher may ask for the next input before an earlier request has
/// returned, but an iterator must never be asked twice at once: requests take turns, and
/// the iterator never leaves this actor (it need not be `Sendable`). After the sequence
/// ends or throws, every request gets nil.
actor SequenceSource<Element: Sendable> {
    /// The sequence's iterator, its type erased so that the source's type (and the
    /// closures that capture it) names only the element.
    private var iterator: (any AsyncIteratorProtocol<Element, any Error>)?
    private var busy = false
    private var turns: [CheckedContinuation<Void, Never>] = []
    /// Requests waiting for the one in progress (for tests).
    var waitingRequests: Int { turns.count }
    private var nextIndex = 0

    init<Base: AsyncSequence>(_ base: sending Base) where Base.Element == Element {
        iterator = ThrowingIterator(base: base.makeAsyncIterator())
    }

    func next() async throws -> (index: Int, input: Element)? {
        // A waiting request waits only for the one in progress, which returns or throws.
        while busy { await withCheckedContinuation { turns.append($0) } }
        guard var current = iterator else {
            // The sequence ended or threw: pass the turn on, so that every request still
            // waiting learns it too (each wakes the next).
            if !turns.isEmpty { turns.removeFirst().resume() }
            return nil
        }
        busy = true
        iterator = nil
        defer {
            busy = false
            if !turns.isEmpty { turns.removeFirst().resume() }
        }
        guard let element = try await current.next(isolation: self) else { return nil }
        iterator = current
        defer { nextIndex += 1 }
        return (nextIndex, element)
    }
}

/// An iterator whose failure is any error, whatever its base's.
private struct ThrowingIterator<Base: AsyncIteratorProtocol>: AsyncIteratorProtocol {
    var base: Base

    mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> Base.Element? {
        try await base.next(isolation: actor)
    }

    mutating func next() async throws -> Base.Element? {
        try await base.next(isolation: nil)
    }
}
