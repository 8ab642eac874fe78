import FPGAJobs
import FPGATestSupport
import Testing

@testable import FPGACluster

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A regular file's chunks are planned when taken and read when a lane has room for
/// them, at their own offsets, as often as asked.
@Suite("file reader: chunks read when a lane has room for them")
struct FileReaderTests {
    /// Every deferred chunk of `reader`, in order.
    static func chunks(of reader: FileReader, size: Int) async throws -> [(index: Int, input: DeferredBytes)] {
        var chunks: [(index: Int, input: DeferredBytes)] = []
        while let chunk = try await reader.nextDeferredChunk(maximum: size) { chunks.append(chunk) }
        return chunks
    }

    static func read(_ chunk: DeferredBytes) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: chunk.count) { buffer, initialized in
            try chunk.read(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = chunk.count
        }
    }

    @Test func chunksCoverTheFileInOrderAndReadAgain() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = TestData.logLines(count: 10_000)
        try folder.write("input", data)
        let reader = try FileReader(path: folder.file("input"))
        let chunks = try await Self.chunks(of: reader, size: 4096)
        #expect(chunks.map(\.index) == [0, 1, 2])
        #expect(chunks.map(\.input.count) == [4096, 4096, 10_000 - 8192])
        // Read out of order, twice, and loaded: the same bytes each time.
        var read: [[UInt8]] = Array(repeating: [], count: chunks.count)
        for index in [2, 0, 1] { read[index] = try Self.read(chunks[index].input) }
        #expect(Array(read.joined()) == data)
        #expect(try Self.read(chunks[1].input) == read[1])
        for (index, chunk) in chunks.enumerated() { #expect(Array(try await chunk.input.load()) == read[index]) }
    }

    @Test func anEmptyFileIsOneEmptyChunk() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("empty", [])
        let reader = try FileReader(path: folder.file("empty"))
        let chunks = try await Self.chunks(of: reader, size: 4096)
        #expect(chunks.map(\.index) == [0])
        #expect(chunks.map(\.input.count) == [0])
        #expect(try await chunks[0].input.load().isEmpty)
    }

    @Test func aChunkPastAShrunkFilesEndIsAnError() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("input", TestData.logLines(count: 10_000))
        let reader = try FileReader(path: folder.file("input"))
        let chunks = try await Self.chunks(of: reader, size: 4096)
        try #require(truncate(folder.file("input"), 5000) == 0)
        // The first chunk is still whole; the second ends early, the third is gone.
        #expect(try Self.read(chunks[0].input).count == 4096)
        #expect(throws: FileJobError.inputShrank(folder.file("input"), expected: 10_000, found: 5000)) {
            try Self.read(chunks[1].input)
        }
        #expect(throws: FileJobError.inputShrank(folder.file("input"), expected: 10_000, found: 8192)) {
            try Self.read(chunks[2].input)
        }
        await #expect(throws: FileJobError.inputShrank(folder.file("input"), expected: 10_000, found: 8192)) {
            try await chunks[2].input.load()
        }
    }
}
