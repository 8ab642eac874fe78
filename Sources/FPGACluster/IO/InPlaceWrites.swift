import Synchronization

/// Pieces of a job's output written where they belong (a ``PositionalOutput``) by
/// whichever thread has them, one write at a time.
///
/// A lane that has inflated a piece writes it itself, while its bytes are still in that
/// core's cache, when no other write is under way (``writeIfIdle(_:piece:)``); otherwise
/// it hands the piece to the writing thread (``write(_:piece:)``, which waits its turn)
/// and goes on. So a lane never waits for another's write: two writes at once to one
/// file would queue on the file's lock in the kernel, the second spinning, and a write
/// that the kernel makes slow (page cache under memory pressure, writeback throttling)
/// would hold up every lane behind it.
final class InPlaceWrites: Sendable {
    let output: PositionalOutput
    /// Each piece's offset from the output's start, and its size.
    private let offsets: [Int]
    private let sizes: [Int]
    /// Held for the length of one write.
    private let turn = Mutex(())
    /// Which pieces are written.
    private let written: Mutex<[Bool]>

    /// Pieces of `sizes` bytes, laid out one after another from the output's start.
    init(output: PositionalOutput, sizes: [Int]) {
        self.output = output
        self.sizes = sizes
        var offsets: [Int] = []
        offsets.reserveCapacity(sizes.count)
        var end = 0
        for size in sizes {
            offsets.append(end)
            end += size
        }
        self.offsets = offsets
        written = Mutex([Bool](repeating: false, count: sizes.count))
    }

    /// The bytes of all the pieces.
    var length: Int { (offsets.last ?? 0) + (sizes.last ?? 0) }

    /// Writes piece `piece` if no other write is under way, and returns true; returns false
    /// at once if one is. Blocks for the write.
    func writeIfIdle(_ bytes: UnsafeRawBufferPointer, piece: Int) throws(FileJobError) -> Bool {
        precondition(bytes.count == sizes[piece], "piece \(piece) has \(sizes[piece]) bytes, not \(bytes.count)")
        let wrote: Bool? = try turn.withLockIfAvailable { _ throws(FileJobError) in
            try output.write(bytes, at: offsets[piece])
            return true
        }
        guard wrote != nil else { return false }
        written.withLock { $0[piece] = true }
        return true
    }

    /// Writes piece `piece` once no other write is under way. Blocks.
    func write(_ bytes: UnsafeRawBufferPointer, piece: Int) throws(FileJobError) {
        precondition(bytes.count == sizes[piece], "piece \(piece) has \(sizes[piece]) bytes, not \(bytes.count)")
        try turn.withLock { _ throws(FileJobError) in try output.write(bytes, at: offsets[piece]) }
        written.withLock { $0[piece] = true }
    }

    /// Runs `body` as if a write were under way: for tests of the hand-over.
    func duringAWrite<Result>(_ body: () throws -> Result) rethrows -> Result {
        try turn.withLock { _ in try body() }
    }

    /// The bytes of the pieces written from the first on, up to the first that is not.
    var writtenPrefix: Int {
        written.withLock { written in
            let count = written.firstIndex(of: false) ?? written.count
            return count == 0 ? 0 : offsets[count - 1] + sizes[count - 1]
        }
    }
}
