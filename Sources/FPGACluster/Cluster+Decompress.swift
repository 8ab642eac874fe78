import FPGADrivers
import FPGAExecution

extension Cluster {
    /// Decompresses a gzip file held in memory: in parallel when every member carries
    /// the `FC` index (files this library wrote), otherwise sequentially. The output is
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
    /// memory: members in parallel when the file is indexed, otherwise sequentially.
    /// Written to a temporary file renamed into place only on success; `-` means
    /// standard input or output.
    @discardableResult
    public func decompressFile(
        at input: String, to output: String, overwrite: Bool = false, progress: ProgressHandler? = nil
    ) async throws -> JobReport {
        try await transformFile(at: input, to: output, overwrite: overwrite) { reader, writer in
            guard let size = reader.size,
                let index = try await GzipIndex.build(size: size, read: { try await reader.read(at: $0, count: $1) })
            else {
                let tracker = ProgressTracker(total: reader.size, handler: progress)
                let chunks = try await inflateSequentially(reader: reader, writer: writer, tracker: tracker)
                return (chunks, [:], tracker.bytesDone)
            }
            let members = IndexedArraySource(index.members)
            let inputs = ScatterInputs<MemberBytes>(
                next: {
                    guard let (position, member) = members.next() else { return nil }
                    let bytes = try await reader.read(at: member.offset, count: member.size)
                    return (position, MemberBytes(member: member, bytes: bytes))
                },
                weight: { $0.bytes.count }, total: size)
            let lanes = OrderedPipeline<MemberBytes, ArraySlice<UInt8>>.hostLanes { item in
                try item.bytes.withUnsafeBytes { raw in
                    try GzipMemberInflater.inflate(
                        raw, header: item.member.header, number: item.member.number, offset: item.member.offset)[...]
                }
            }
            let (_, bytesIn) = try await scatter(inputs, of: Self.decompressionJob, over: lanes, progress: progress) {
                inflated, _ in
                try await writer.write(inflated)
            }
            // Host work runs on no node: the report counts no chunks per node.
            return (index.members.count, [:], bytesIn)
        }
    }

    /// Streams any gzip file through one inflater. Reading the next piece (on the
    /// reader's thread), inflating this one (on the pool) and writing the previous
    /// output (on the writer's thread) overlap, so one core inflates all the time. Two
    /// input and two output buffers are reused throughout: no allocation, no page
    /// faults of fresh memory and no copy per piece.
    private func inflateSequentially(reader: FileReader, writer: FileWriter, tracker: ProgressTracker) async throws
        -> Int
    {
        let inflater = SendableInflater()
        let inputs = [IOBuffer(size: 512 << 10), IOBuffer(size: 512 << 10)]
        let outputs = [IOBuffer(size: 1 << 20), IOBuffer(size: 1 << 20)]
        var reading = 0
        var writing = 0
        var nextRead: Task<Int, any Error>? = Task { [buffer = inputs[0]] in try await reader.nextChunk(into: buffer) }
        var pendingWrite: Task<Void, any Error>?
        do {
            while let read = nextRead {
                let count = try await read.value
                guard count > 0 else { break }
                let input = inputs[reading]
                reading ^= 1
                nextRead = Task { [buffer = inputs[reading]] in try await reader.nextChunk(into: buffer) }
                var position = 0
                var full = false
                repeat {
                    let output = outputs[writing]
                    let (consumed, produced) = try await BlockingThreadPool.shared.run { [position] in
                        try inflater.inflate(input, range: position..<count, into: output)
                    }
                    position += consumed
                    full = produced == output.bytes.count
                    // The previous write used the other output buffer.
                    try await pendingWrite?.value
                    pendingWrite = nil
                    if produced > 0 {
                        pendingWrite = Task { try await writer.write(output, count: produced) }
                        writing ^= 1
                    }
                } while position < count || full
                tracker.advance(by: count)
            }
            try await pendingWrite?.value
        } catch {
            // Nothing may use the reader, the writer or the buffers after this returns.
            _ = try? await nextRead?.value
            _ = try? await pendingWrite?.value
            throw error
        }
        try inflater.finish()
        return inflater.members
    }
}

/// A member's bytes read from a file, with its place in the index.
struct MemberBytes: Sendable {
    let member: GzipIndex.Member
    let bytes: [UInt8]
}

/// Bytes a reader fills, an inflater reads or writes, or a writer writes, reused
/// throughout a job.
///
/// `@unchecked Sendable`: the one task that owns it hands it to one thread at a time (a
/// read, an inflate or a write) and awaits that use before the next, so its bytes are
/// never touched by two threads at once.
final class IOBuffer: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer

    init(size: Int) { bytes = .allocate(byteCount: size, alignment: 64) }

    deinit { bytes.deallocate() }
}

/// Carries one ``GzipStreamInflater`` between the task reading a file and pool threads.
///
/// `@unchecked Sendable`: one task drives it, and each call finishes (the task awaits
/// the pool) before the next starts, so the inflater is never used by two threads at once.
private final class SendableInflater: @unchecked Sendable {
    private let inflater = GzipStreamInflater()

    var members: Int { inflater.members }

    /// Inflates `input`'s bytes in `range` into `output` until they are used up or
    /// `output` is full; returns the bytes of each used.
    func inflate(_ input: IOBuffer, range: Range<Int>, into output: IOBuffer) throws -> (consumed: Int, produced: Int) {
        try inflater.inflate(UnsafeRawBufferPointer(rebasing: input.bytes[range]), into: output.bytes)
    }

    func finish() throws { try inflater.finish() }
}

extension Cluster {
    /// Decompression's name in the cluster's metrics (it runs on host threads, not devices).
    static let decompressionJob = "gunzip"
}
