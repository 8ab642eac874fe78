import Synchronization

/// Pieces of a job's output written where they belong (a ``PositionalOutput``) by
/// whichever thread has them, one write at a time.
///
/// A lane writes what it has inflated itself, a slice of at most
/// ``Cluster/inflateSliceSize`` bytes while they are still in its core's cache, waiting for
/// its turn when another lane is writing: a slice's write is short, so the wait is.
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

    /// Writes `bytes` at `at` in piece `piece` once no other write is under way. Blocks.
    /// The piece counts as written only once ``finish(_:)`` says it is whole.
    func write(_ bytes: UnsafeRawBufferPointer, piece: Int, at: Int = 0) throws(FileJobError) {
        precondition(
            at >= 0 && at + bytes.count <= sizes[piece],
            "bytes \(at)..<\(at + bytes.count) are outside piece \(piece)'s \(sizes[piece])")
        try turn.withLock { _ throws(FileJobError) in try output.write(bytes, at: offsets[piece] + at) }
    }

    /// Records that all of piece `piece` is written (and its bytes checked).
    func finish(_ piece: Int) {
        written.withLock { $0[piece] = true }
    }

    /// The bytes of the pieces written from the first on, up to the first that is not.
    var writtenPrefix: Int {
        written.withLock { written in
            let count = written.firstIndex(of: false) ?? written.count
            return count == 0 ? 0 : offsets[count - 1] + sizes[count - 1]
        }
    }
}
