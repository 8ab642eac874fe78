import FPGAExecution
import FPGATestSync
import Synchronization
import Testing

@testable import FPGACluster

/// An empty sequence whose one `next()` waits for `gate`, after counting itself in
/// `entered`: the request that calls it keeps the source busy until the test opens the gate.
struct GatedEmptySequence: AsyncSequence, Sendable {
    let gate: AsyncSemaphore
    let entered: Watched<Int>

    struct AsyncIterator: AsyncIteratorProtocol {
        let gate: AsyncSemaphore
        let entered: Watched<Int>

        mutating func next() async throws -> Int? {
            entered.update { $0 += 1 }
            try await gate.acquire()
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(gate: gate, entered: entered) }
}

@Suite("SequenceSource", .timeLimit(stuckTestLimit))
struct SequenceSourceTests {
    /// Requests that wait while the sequence ends must all get nil: each woken request
    /// passes the turn on. (It used to wake only the first, and a stream whose lanes asked
    /// for more inputs at its end hung.)
    @Test func everyWaitingRequestLearnsTheEnd() async throws {
        let gate = AsyncSemaphore(permits: 0)
        let entered = Watched(0)
        let source = SequenceSource<Int>(GatedEmptySequence(gate: gate, entered: entered))
        let first = Task { try await source.next()?.index }
        try await entered.wait(until: { $0 == 1 }, "the first request in the sequence's next()")
        // Their results, gathered as they come: a request that is never woken fails the
        // test at the limit instead of hanging it.
        let ends = Watched<[Bool]>([])
        for _ in 0..<3 {
            Task {
                let next = try await source.next()
                ends.update { $0.append(next == nil) }
            }
        }
        try await within("three requests waiting for their turn") {
            while await source.waitingRequests < 3 { await Task.yield() }
        }
        gate.release()
        #expect(try await first.boundedValue("the first request") == nil)
        let results = try await ends.wait(until: { $0.count == 3 }, "every waiting request's end")
        #expect(results == [true, true, true])
        #expect(entered.value == 1)
    }
}
