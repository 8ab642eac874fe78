import FPGADrivers
import FPGAExecution

extension Cluster {
    /// Decompresses a gzip file held in memory: in parallel when every member carries
    /// the `FC` index (files this library wrote) or when it holds many members (found by
    /// their headers, see `GzipMemberChain`), otherwise sequentially. The output is
    /// what `gzip -dc` gives; corruption is a `GzipError`.
    public func decompress(_ data: [UInt8], progress: ProgressHandler? = nil) async throws -> [UInt8] {
        if let index = try await GzipIndex.build(data) {
            let lanes = OrderedPipeline<GzipIndex.Member, ArraySlice<UInt8>>.hostLanes { member in
                try data.withUnsafeBytes { raw in
                    try GzipMemberInflater.inflate(
                        UnsafeRawBufferPointer(rebasing: raw[member.offset..<(member.offset + member.size)]),
                        header: member.header, number: member.number, offset: member.offset)[...]
                }
            }
            return try await scatterConcatenating(
                .elements(index.members, weight: { $0.size }, total: data.count), of: Self.decompressionJob,
                over: lanes,
                reserving: index.uncompressedSize, progress: progress
            ).bytes
        }
        let tracker = ProgressTracker(total: data.count, handler: progress)
        if data.count > Self.chainSegmentSize {
            // Many members, perhaps: found by their headers and inflated in parallel.
            let source = CompressedSource(size: data.count) { offset, buffer in
                data.withUnsafeBytes { raw in
                    let count = min(buffer.count, raw.count - offset)
                    buffer.baseAddress!.copyMemory(from: raw.baseAddress! + offset, byteCount: count)
                    return count
                }
            }
            let output = ByteCollector()
            _ = try await inflateChains(
                of: source, to: { buffer, range in output.append(buffer.bytes[range]) }, tracker: tracker)
            return output.take()
        }
        return try await BlockingThreadPool.shared.run {
            let inflater = GzipStreamInflater()
            var output: [UInt8] = []
            try data.withUnsafeBytes { raw in
                try inflater.feed(raw) { output.append(contentsOf: $0) }
            }
            try inflater.finish()
            tracker.advance(by: data.count)
            return output
        }
    }

    /// Decompresses the gzip file at `input` into `output`, streaming with bounded
    /// memory: members in parallel when the file is indexed or is a regular file with
    /// many members (found by their headers, see `GzipMemberChain`), otherwise
    /// sequentially.
    /// Written to a temporary file renamed into place only on success; `-` means
    /// standard input or output.
    @discardableResult
    public func decompressFile(
        at input: String, to output: String, overwrite: Bool = false, progress: ProgressHandler? = nil
    ) async throws -> JobReport {
        try await transformFile(at: input, to: output, overwrite: overwrite) { reader, writer in
            guard let size = reader.size, let index = try await Self.buildIndex(size: size, of: reader) else {
                let tracker = ProgressTracker(total: reader.size, handler: progress)
                // A regular file of several segments may hold many members: find and
                // inflate them in parallel. Pipes, and small files, stream.
                if let size = reader.size, size > Self.chainSegmentSize {
                    let source = CompressedSource(size: size) { offset, buffer in
                        try reader.read(at: offset, into: buffer)
                    }
                    let members = try await inflateChains(
                        of: source, to: Self.appending(to: writer), tracker: tracker)
                    return (members, [:], size)
                }
                let chunks = try await inflateSequentially(reader: reader, writer: writer, tracker: tracker)
                return (chunks, [:], tracker.bytesDone)
            }
            let (bytesIn, members) = try await inflateMembers(
                of: index, reader: reader, writer: writer, progress: progress)
            // Host work runs on no node: the report counts no chunks per node.
            return (members, [:], bytesIn)
        }
    }

    /// Inflates an indexed file's members in parallel, one lane per thread of the shared
    /// CPU pool, and writes their outputs in order: for an output that takes bytes in order
    /// only (a pipe); a regular file takes each member in place at once. Each lane reads its member straight
    /// from the file on its own thread (`pread`, no hop to the reader's thread) into a
    /// reused buffer and inflates it into another reused buffer. Outputs go to a writing
    /// task in order, and a lane goes on to its next member at once rather than waiting
    /// for the write; at most twice as many outputs as lanes, plus two, are inflated and
    /// not yet written, which bounds memory when the disk is slower than the cores. The
    /// job allocates that many buffers, not two per member. Returns the compressed bytes
    /// read and the members.
    private func inflateMembers(
        of index: GzipIndex, reader: FileReader, writer: FileWriter, progress: ProgressHandler?
    ) async throws -> (bytesIn: Int, members: Int) {
        if let output = await writer.positionalOutput() {
            return try await inflateMembers(
                of: index, reader: reader, at: output, writer: writer, progress: progress)
        }
        let (inputs, compressed) = Self.memberInputs(of: index, reader: reader)
        let inflated = Self.memberOutputs(of: index)
        let pool = BlockingThreadPool.shared
        let unwritten = AsyncSemaphore(permits: 2 * pool.threadCount + 2)
        // Each lane's task runs on the pool (its executor), so `pool.run` inflates in place.
        let lanes = (0..<pool.threadCount).map { _ in
            OrderedPipeline<GzipIndex.Member, InflatedMember>.Lane(name: "cpu", executor: pool) { member in
                try await unwritten.acquire()
                let input = compressed.take()
                defer { compressed.give(input) }
                let output = inflated.take()
                do {
                    let count = try await pool.run { try Self.inflate(member, from: reader, via: input, into: output) }
                    return InflatedMember(buffer: output, count: count)
                } catch {
                    inflated.give(output)
                    unwritten.release()
                    throw error
                }
            }
        }
        let outputs = AsyncStream<InflatedMember>.makeStream()
        let bytesIn = try await scatterWhileWriting(outputs) { member in
            try await writer.write(member.buffer, count: member.count)
            inflated.give(member.buffer)
            unwritten.release()
        } scatter: {
            try await self.scatter(inputs, of: Self.decompressionJob, over: lanes, progress: progress) { member, _ in
                outputs.continuation.yield(member)
            }.weightDone
        }
        return (bytesIn, index.members.count)
    }

    /// Inflates an indexed file's members in parallel into an output that takes writes at
    /// offsets (a regular file), each member where the index places it (`InPlaceWrites`):
    /// a lane inflates its member a slice at a time into one reused buffer of
    /// ``inflateSliceSize`` bytes and writes each slice at once, while it is still in that
    /// core's cache. No member is held inflated, so a lane needs one member's compressed
    /// bytes and one slice, however large its members are. Returns the compressed bytes
    /// read and the members.
    private func inflateMembers(
        of index: GzipIndex, reader: FileReader, at output: PositionalOutput, writer: FileWriter,
        progress: ProgressHandler?
    ) async throws -> (bytesIn: Int, members: Int) {
        let writes = InPlaceWrites(output: output, sizes: index.members.map(\.uncompressedSize))
        let (inputs, compressed) = Self.memberInputs(of: index, reader: reader)
        let slices = IOBufferPool(bufferSize: Self.inflateSliceSize)
        let pool = BlockingThreadPool.shared
        let lanes = (0..<pool.threadCount).map { _ in
            OrderedPipeline<GzipIndex.Member, Int>.Lane(name: "cpu", executor: pool) { member in
                let input = compressed.take()
                let slice = slices.take()
                defer {
                    compressed.give(input)
                    slices.give(slice)
                }
                return try await pool.run {
                    let count = try Self.inflate(member, from: reader, via: input, slicesOf: slice) { bytes, at in
                        try writes.write(bytes, piece: member.number, at: at)
                    }
                    writes.finish(member.number)
                    return count
                }
            }
        }
        do {
            let bytesIn = try await self.scatter(inputs, of: Self.decompressionJob, over: lanes, progress: progress) {
                _, _ in
            }.weightDone
            try await writer.endPositionalWrites(length: writes.length, complete: true)
            return (bytesIn, index.members.count)
        } catch {
            try? await writer.endPositionalWrites(length: writes.writtenPrefix, complete: false)
            throw error
        }
    }

    /// Runs `scatter`, which hands members to `members`, while a writing task takes each
    /// one and runs `write`; returns what `scatter` returns once every member handed over
    /// is written. The first failure (a member, a read or a write) cancels the other task.
    private func scatterWhileWriting(
        _ members: (stream: AsyncStream<InflatedMember>, continuation: AsyncStream<InflatedMember>.Continuation),
        write: @escaping @Sendable (InflatedMember) async throws -> Void,
        scatter: @escaping @Sendable () async throws -> Int
    ) async throws -> Int {
        try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                for await member in members.stream { try await write(member) }
                // Cancelled (the scatter failed): the members were not all written.
                try Task.checkCancellation()
                return nil
            }
            group.addTask {
                defer { members.continuation.finish() }
                return try await scatter()
            }
            var result = 0
            for try await value in group {
                if let value { result = value }
            }
            return result
        }
    }

    /// An indexed file's members as a scatter's inputs, weighed in compressed bytes, and a
    /// pool of buffers for their compressed bytes.
    private static func memberInputs(of index: GzipIndex, reader: FileReader)
        -> (ScatterInputs<GzipIndex.Member>, compressed: IOBufferPool)
    {
        let members = IndexedArraySource(index.members)
        let inputs = ScatterInputs<GzipIndex.Member>(
            next: { members.next() }, weight: { $0.size }, total: reader.size)
        return (inputs, IOBufferPool(bufferSize: index.members.map(\.size).max() ?? 0))
    }

    /// A pool of buffers for whole inflated members: the spare byte is GzipMemberInflater's
    /// check that a member is no longer than its index says.
    private static func memberOutputs(of index: GzipIndex) -> IOBufferPool {
        IOBufferPool(bufferSize: (index.members.map(\.uncompressedSize).max() ?? 0) + 1)
    }

    /// The slice of an inflated member that a lane writing in place holds at a time: small
    /// enough to stay in a core's cache between the inflating and the write, large enough
    /// that a write's cost is in copying, not in the call.
    static let inflateSliceSize = 512 << 10

    /// The member index of a regular file (nil when it has none), read on a thread of the
    /// CPU pool with `pread` for each member's header: one hop to the pool for the whole
    /// walk, not two per member.
    private static func buildIndex(size: Int, of reader: FileReader) async throws -> GzipIndex? {
        let walk = Task(executorPreference: BlockingThreadPool.shared) {
            try await GzipIndex.build(size: size) { offset, count in
                try Task.checkCancellation()
                return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                    initialized = try reader.read(at: offset, into: UnsafeMutableRawBufferPointer(buffer))
                }
            }
        }
        return try await withTaskCancellationHandler {
            try await walk.value
        } onCancel: {
            walk.cancel()
        }
    }

    /// Reads `member` from `reader` into `input` and inflates it into `output`; returns the
    /// bytes inflated. Blocks: runs on a pool thread.
    private static func inflate(
        _ member: GzipIndex.Member, from reader: FileReader, via input: IOBuffer, into output: IOBuffer
    ) throws -> Int {
        try GzipMemberInflater.inflate(
            read(member, from: reader, into: input), header: member.header, number: member.number,
            offset: member.offset, into: output.bytes)
    }

    /// Reads `member` from `reader` into `input` and inflates it a slice at a time into
    /// `slice`, handing each to `deliver` with its offset in the member; returns the bytes
    /// inflated. Blocks: runs on a pool thread.
    private static func inflate(
        _ member: GzipIndex.Member, from reader: FileReader, via input: IOBuffer, slicesOf slice: IOBuffer,
        deliver: (_ bytes: UnsafeRawBufferPointer, _ at: Int) throws -> Void
    ) throws -> Int {
        try GzipMemberInflater.inflate(
            read(member, from: reader, into: input), header: member.header, number: member.number,
            offset: member.offset, slicesOf: slice.bytes, deliver: deliver)
    }

    /// Reads `member`'s compressed bytes from `reader` into the start of `input`. Blocks.
    private static func read(_ member: GzipIndex.Member, from reader: FileReader, into input: IOBuffer) throws
        -> UnsafeRawBufferPointer
    {
        let bytes = UnsafeMutableRawBufferPointer(rebasing: input.bytes[0..<member.size])
        let got = try reader.read(at: member.offset, into: bytes)
        // The file shrank after its index was read.
        guard got == member.size else { throw GzipError.truncated(offset: member.offset + got) }
        return UnsafeRawBufferPointer(bytes)
    }

    /// Streams any gzip file through one inflater. A pool thread reads each piece and
    /// inflates it into output buffers that the writer's thread writes meanwhile, so the
    /// inflating core never waits for a write; four 1 MiB output buffers and one 256 KiB
    /// input buffer are reused throughout (no allocation or page faults of fresh memory
    /// per piece; sizes that stay in cache measured faster than larger ones), and the
    /// threads hand over once per full output buffer, not per piece.
    private func inflateSequentially(reader: FileReader, writer: FileWriter, tracker: ProgressTracker) async throws
        -> Int
    {
        try await Self.drain(BufferHandoff(buffers: 4, size: 1 << 20), to: Self.appending(to: writer)) { handoff in
            try Self.inflateStream(from: reader, into: handoff, tracker: tracker)
        }
    }

    /// Where decompressed bytes go, in order: `write(buffer, range)` takes the bytes of
    /// `buffer` in `range`, which stay untouched until it returns.
    typealias OutputSink = @Sendable (IOBuffer, Range<Int>) async throws -> Void

    /// Writes to `writer`.
    static func appending(to writer: FileWriter) -> OutputSink {
        { buffer, range in try await writer.write(buffer, range: range) }
    }

    /// Runs `produce` on a pool thread, which fills the hand-off's buffers, and writes
    /// each buffer it fills, in order, while it goes on; returns what `produce` returns
    /// once every buffer is written. The hand-off is finished when this returns.
    static func drain<Result: Sendable>(
        _ handoff: BufferHandoff, to write: OutputSink,
        produce: @escaping @Sendable (BufferHandoff) throws -> Result
    ) async throws -> Result {
        let producing = Task {
            try await BlockingThreadPool.shared.run {
                do {
                    let result = try produce(handoff)
                    handoff.finish()
                    return result
                } catch {
                    handoff.fail(error)
                    throw error
                }
            }
        }
        do {
            try await withTaskCancellationHandler {
                while let (buffer, count) = try await handoff.nextFull() {
                    try await write(buffer, 0..<count)
                    handoff.giveBack(buffer)
                }
            } onCancel: {
                handoff.fail(CancellationError())
            }
        } catch {
            // The producing thread stops at its next hand-over; nothing may use the
            // reader, the writer or the buffers after this returns.
            handoff.fail(error)
            _ = try? await producing.value
            throw error
        }
        return try await producing.value
    }

    /// Reads the whole stream on the calling (pool) thread and inflates it into the
    /// hand-off's buffers; returns the members. Blocks.
    private static func inflateStream(
        from reader: FileReader, into handoff: BufferHandoff, tracker: ProgressTracker
    ) throws -> Int {
        let inflater = GzipStreamInflater()
        let input = IOBuffer(size: 256 << 10)
        var output = try handoff.takeEmpty()
        var produced = 0
        while true {
            let count = try reader.readStream(into: input.bytes)
            guard count > 0 else { break }
            var position = 0
            var full = false
            repeat {
                let room = UnsafeMutableRawBufferPointer(rebasing: output.bytes[produced...])
                let (consumed, made) = try inflater.inflate(
                    UnsafeRawBufferPointer(rebasing: input.bytes[position..<count]), into: room)
                position += consumed
                produced += made
                full = produced == output.bytes.count
                if full {
                    handoff.put(output, count: produced)
                    output = try handoff.takeEmpty()
                    produced = 0
                }
            } while position < count || full
            tracker.advance(by: count)
            // A short read: a pipe has nothing more yet, so what it gave goes out now
            // rather than when the buffer fills (`producer | fpga-compress -d | consumer`).
            if count < input.bytes.count && produced > 0 {
                handoff.put(output, count: produced)
                output = try handoff.takeEmpty()
                produced = 0
            }
        }
        try inflater.finish()
        if produced > 0 { handoff.put(output, count: produced) }
        return inflater.members
    }
}

/// A member inflated into a pooled buffer: its first `count` bytes.
struct InflatedMember: Sendable {
    let buffer: IOBuffer
    let count: Int
}

extension Cluster {
    /// Decompression's name in the cluster's metrics (it runs on host threads, not devices).
    static let decompressionJob = "gunzip"
}
