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
    /// output (on the writer's thread) overlap, so one core inflates all the time.
    private func inflateSequentially(reader: FileReader, writer: FileWriter, tracker: ProgressTracker) async throws
        -> Int
    {
        let inflater = SendableInflater()
        let pieceSize = 1 << 20
        var nextRead: Task<ArraySlice<UInt8>?, any Error>? = Task {
            try await reader.nextChunk(maximum: pieceSize)?.input
        }
        var pendingWrite: Task<Void, any Error>?
        do {
            while let read = nextRead {
                guard let piece = try await read.value, !piece.isEmpty else { break }
                nextRead = Task { try await reader.nextChunk(maximum: pieceSize)?.input }
                let inflated = try await BlockingThreadPool.shared.run { try inflater.feed(piece) }
                try await pendingWrite?.value
                pendingWrite = Task { for output in inflated { try await writer.write(output) } }
                tracker.advance(by: piece.count)
            }
            try await pendingWrite?.value
        } catch {
            // Nothing may touch the reader or writer after this returns: wait for both.
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

/// Carries one ``GzipStreamInflater`` between the task reading a file and pool threads.
///
/// `@unchecked Sendable`: one task drives it, and each call finishes (the task awaits
/// the pool) before the next starts, so the inflater is never used by two threads at once.
private final class SendableInflater: @unchecked Sendable {
    private let inflater = GzipStreamInflater()

    var members: Int { inflater.members }

    /// Inflates `piece` straight into arrays sized from the compression ratio so far
    /// (uninitialised, so nothing is zeroed or copied); more than one only when the
    /// estimate falls short.
    func feed(_ piece: ArraySlice<UInt8>) throws -> [[UInt8]] {
        var outputs: [[UInt8]] = []
        try piece.withUnsafeBytes { raw in
            var position = 0
            while true {
                let ratio = inflater.bytesIn > 0 ? Double(inflater.bytesOut) / Double(inflater.bytesIn) : 4
                let estimate = Double(raw.count - position) * min(ratio, 1032) * 1.0625
                let capacity = min(max(Int(estimate) + (64 << 10), 256 << 10), 64 << 20)
                var full = false
                let output = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                    let (consumed, produced) = try inflater.inflate(
                        UnsafeRawBufferPointer(rebasing: raw[position...]), into: UnsafeMutableRawBufferPointer(buffer))
                    position += consumed
                    initialized = produced
                    full = produced == capacity
                }
                if !output.isEmpty { outputs.append(output) }
                if !full { return }
            }
        }
        return outputs
    }

    func finish() throws { try inflater.finish() }
}

extension Cluster {
    /// Decompression's name in the cluster's metrics (it runs on host threads, not devices).
    static let decompressionJob = "gunzip"
}
