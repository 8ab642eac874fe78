import FPGADrivers
import FPGAExecution

/// The compressed bytes of a chain decompression: `read(offset, buffer)` reads them at
/// `offset` into `buffer` (blocking: a pool thread calls it) and returns the bytes read,
/// fewer only at the end.
struct CompressedSource: Sendable {
    let size: Int
    let read: @Sendable (Int, UnsafeMutableRawBufferPointer) throws -> Int
}

/// A segment of a gzip file without a member index, as a lane found it: the chain of
/// members that starts at the segment's first member header (nil when none starts
/// there, inside a member larger than the segment), inflated into `output`.
struct SegmentChain: Sendable {
    let chain: GzipMemberChain?
    let output: IOBuffer?
}

extension Cluster {
    /// Compressed bytes per segment of a file without a member index.
    static let chainSegmentSize = 512 << 10
    /// A segment's chain takes no further member once it has made this many bytes (the
    /// writer inflates the segment's rest itself): each page of a chain's buffer costs a
    /// page fault the first time, so a chain of 16 MiB made 300 MiB of zeros in 75
    /// members 25% slower than the sequential path, and one of 4 MiB as fast ...
    static let chainSoftLimit = 4 << 20
    /// ... and gives up a member that would take it past this many (the writer inflates
    /// that member itself), which bounds the memory of each segment in flight.
    static let chainHardLimit = 32 << 20
    /// Segments the lanes may have searched ahead of the writer: 8 MiB of the file. A
    /// member up to that size is inflated by a lane while the writer inflates the one
    /// before it; a file of one member costs the lanes a search of its first 8 MiB.
    static let chainLookahead = 16

    /// Decompresses gzip bytes that have no member index (a regular file, or bytes in
    /// memory): any gzip file, from any writer, with one member or many; returns the
    /// members.
    ///
    /// The writer's side inflates from the file's start, one member after another, on a
    /// pool thread (a sequential stretch), while lanes on the other pool threads take
    /// 512 KiB segments of the file in order, each finding the first member header in its
    /// segment and inflating the chain of members from there up to the next segment.
    /// Whenever the stretch finishes a member at or past the next segment's start, the
    /// writer looks at that segment's chain: if the chain has a member starting exactly
    /// where the stretch stopped, the writer writes the chain's output from that member
    /// on and goes on from the chain's end; otherwise the stretch goes on. A chain is
    /// used only from a start the writer reached by inflating everything before it, so
    /// the output and every error are the sequential path's: a candidate header that was
    /// not a member start costs a lane some work, never a wrong byte.
    ///
    /// One member: the stretch inflates it all at the sequential path's speed while the
    /// lanes search at most 16 segments (8 MiB) ahead of it, then wait and are cancelled
    /// at the end. Many members: the lanes do most of the inflating, in parallel. Memory:
    /// at most `threads + 2` chains wait to be written, each holding at most 32 MiB of
    /// output.
    func inflateChains(of source: CompressedSource, to write: @escaping OutputSink, tracker: ProgressTracker)
        async throws -> Int
    {
        let size = source.size
        let segmentSize = Self.chainSegmentSize
        let segments = (size + segmentSize - 1) / segmentSize
        let pool = BlockingThreadPool.shared
        // Segments delivered and not yet looked at by the writer: a bound on how far the
        // lanes search ahead of it (a member larger than a segment leaves segments
        // without a member start, which cost a read and a search only) ...
        let ahead = AsyncSemaphore(permits: Self.chainLookahead)
        // ... and, among them, those holding an output buffer: a bound on memory.
        let unconsumed = AsyncSemaphore(permits: pool.threadCount + 2)
        let scans = IOBufferPool(bufferSize: segmentSize + 16)
        let outputs = IOBufferPool(bufferSize: Self.chainHardLimit)
        let numbers = IndexedArraySource(Array(1..<segments))
        let inputs = ScatterInputs<Int>(next: { numbers.next() }, weight: { _ in segmentSize }, total: size)
        let lanes = (0..<pool.threadCount).map { _ in
            OrderedPipeline<Int, SegmentChain>.Lane(name: "cpu", executor: pool) { number in
                try await ahead.acquire()
                do {
                    let scan = scans.take()
                    defer { scans.give(scan) }
                    let (got, candidate) = try await pool.run {
                        try Self.firstCandidate(ofSegment: number, of: source, into: scan)
                    }
                    guard let candidate else { return SegmentChain(chain: nil, output: nil) }
                    try await unconsumed.acquire()
                    do {
                        let segment = try await pool.run {
                            try Self.chain(
                                ofSegment: number, from: candidate, holding: got, of: source, scan: scan,
                                outputs: outputs)
                        }
                        if segment.output == nil { unconsumed.release() }
                        return segment
                    } catch {
                        unconsumed.release()
                        throw error
                    }
                } catch {
                    ahead.release()
                    throw error
                }
            }
        }
        let (chains, delivered) = AsyncStream<SegmentChain>.makeStream()
        return try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                defer { delivered.finish() }
                _ = try await self.scatter(inputs, of: Self.decompressionJob, over: lanes) { chain, _ in
                    delivered.yield(chain)
                }
                return nil
            }
            group.addTask {
                try await Self.writeChains(
                    chains, segments: segments, of: source, to: write, ahead: ahead, unconsumed: unconsumed,
                    outputs: outputs, tracker: tracker)
            }
            var members: Int?
            do {
                while let result = try await group.next() {
                    guard let result else { continue }
                    // Written to the end: the lanes' further segments are not needed.
                    members = result
                    group.cancelAll()
                }
            } catch  where members != nil {
                // The lanes stopped by that cancellation.
            }
            return members!
        }
    }

    /// Writes the file's output in order, inflating sequential stretches itself and
    /// taking the lanes' chains where they join; returns the members. See
    /// ``inflateChains(of:to:tracker:)``.
    private static func writeChains(
        _ chains: AsyncStream<SegmentChain>, segments: Int, of source: CompressedSource, to write: @escaping OutputSink,
        ahead: AsyncSemaphore, unconsumed: AsyncSemaphore, outputs: IOBufferPool, tracker: ProgressTracker
    ) async throws -> Int {
        let size = source.size
        let handoff = BufferHandoff(buffers: 4, size: 1 << 20)
        let input = IOBuffer(size: 256 << 10)
        var pending = chains.makeAsyncIterator()
        var offset = 0
        var members = 0
        var nextSegment = 1
        while offset < size {
            let threshold = nextSegment < segments ? nextSegment * chainSegmentSize : Int.max
            if offset < threshold {
                let (start, before) = (offset, members)
                let stretch = try await drain(handoff, to: write) { handoff in
                    try inflateStretch(
                        from: start, members: before, until: threshold, of: source, input: input, into: handoff)
                }
                handoff.restart()
                tracker.advance(by: stretch.end - offset)
                (offset, members) = (stretch.end, stretch.members)
                if stretch.atEnd { break }
                continue
            }
            // The stream ends early only when the lanes failed; the group reports why.
            guard let segment = await pending.next() else { throw CancellationError() }
            nextSegment += 1
            ahead.release()
            guard let chain = segment.chain, let output = segment.output else { continue }
            defer {
                outputs.give(output)
                unconsumed.release()
            }
            guard let first = chain.member(startingAt: offset) else { continue }
            // One write of several MiB: the file writer hands it to the system in calls
            // of `IOBuffer.largestWrite`.
            try await write(output, chain.outputOffsets[first]..<chain.outputCount)
            tracker.advance(by: chain.end - offset)
            members += chain.members - first
            offset = chain.end
        }
        return members
    }

    /// Reads segment `number` into `scan` (and the 9 bytes after it, where a header
    /// starting in it ends); returns the bytes read and the first candidate member
    /// header in the segment, if any. Blocks.
    private static func firstCandidate(ofSegment number: Int, of source: CompressedSource, into scan: IOBuffer)
        throws -> (got: Int, candidate: Int?)
    {
        let (start, size) = (number * chainSegmentSize, source.size)
        let got = try load(segment: number, of: source, into: scan)
        let candidate = GzipMemberChain.nextCandidate(
            in: UnsafeRawBufferPointer(rebasing: scan.bytes[0..<got]), from: 0)
        guard let candidate, candidate < min(chainSegmentSize, size - start) else { return (got, nil) }
        return (got, candidate)
    }

    private static func load(segment number: Int, of source: CompressedSource, into scan: IOBuffer) throws -> Int {
        let start = number * chainSegmentSize
        let count = min(scan.bytes.count, source.size - start)
        return try source.read(start, UnsafeMutableRawBufferPointer(rebasing: scan.bytes[0..<count]))
    }

    /// Inflates the chain of segment `number` (see `GzipMemberChain`) from its first
    /// candidate header, at `candidate` in `scan`, which holds `got` of the segment's
    /// bytes; tries the segment's later candidates when one does not start a chain.
    /// Blocks.
    private static func chain(
        ofSegment number: Int, from candidate: Int, holding got: Int, of source: CompressedSource, scan: IOBuffer,
        outputs: IOBufferPool
    ) throws -> SegmentChain {
        let (start, size) = (number * chainSegmentSize, source.size)
        let limit = min(size, start + chainSegmentSize)
        let output = outputs.take()
        var (candidate, got) = (candidate, got)
        while !Task.isCancelled {
            // The chain reads on through the segment's own bytes, already in `scan`.
            if let chain = try GzipMemberChain.inflate(
                from: start + candidate, until: limit, fileSize: size, buffer: scan.bytes, holding: got, from: start,
                read: source.read, into: output.bytes,
                softLimit: chainSoftLimit)
            {
                return SegmentChain(chain: chain, output: output)
            }
            // Not a member start (rare): the chain overwrote the buffer; read it again.
            got = try load(segment: number, of: source, into: scan)
            guard
                let next = GzipMemberChain.nextCandidate(
                    in: UnsafeRawBufferPointer(rebasing: scan.bytes[0..<got]), from: candidate + 1),
                start + next < limit
            else { break }
            candidate = next
        }
        outputs.give(output)
        return SegmentChain(chain: nil, output: nil)
    }

    /// Inflates members from `offset`, a member boundary with `members` before it, into
    /// the hand-off's buffers until a member ends at or past `threshold` or the file
    /// ends (then the end is checked as the sequential path checks it: a cut member, zero
    /// padding, garbage). Blocks.
    private static func inflateStretch(
        from offset: Int, members: Int, until threshold: Int, of source: CompressedSource, input: IOBuffer,
        into handoff: BufferHandoff
    ) throws -> (end: Int, members: Int, atEnd: Bool) {
        let inflater = GzipStreamInflater(offset: offset, members: members)
        inflater.stopsAfterEachMember = true
        var output = try handoff.takeEmpty()
        var produced = 0
        var next = offset
        var (position, filled) = (0, 0)
        // The last call filled the output: the inflater may hold more before it needs input.
        var outputWasFull = false
        while true {
            if position == filled && !outputWasFull {
                filled = try source.read(next, input.bytes)
                position = 0
                next += filled
                if filled == 0 {
                    try inflater.finish()
                    if produced > 0 { handoff.put(output, count: produced) } else { handoff.giveBack(output) }
                    return (inflater.bytesIn, inflater.members, true)
                }
            }
            let before = inflater.members
            let room = output.bytes.count - produced
            let (consumed, made) = try inflater.inflate(
                UnsafeRawBufferPointer(rebasing: input.bytes[position..<filled]),
                into: UnsafeMutableRawBufferPointer(rebasing: output.bytes[produced...]))
            position += consumed
            produced += made
            outputWasFull = made == room
            if produced == output.bytes.count {
                handoff.put(output, count: produced)
                output = try handoff.takeEmpty()
                produced = 0
            }
            if inflater.members > before && inflater.bytesIn >= threshold {
                if produced > 0 { handoff.put(output, count: produced) } else { handoff.giveBack(output) }
                return (inflater.bytesIn, inflater.members, false)
            }
        }
    }
}
