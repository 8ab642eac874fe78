import FPGATestSupport
import Foundation
import Testing

@testable import FPGACluster

@Suite("FileWriter")
struct FileWriterTests {
    /// The partial output is close-on-exec from the moment it exists: a process that
    /// another thread of the user's program starts never inherits it.
    @Test func thePartialFileIsCloseOnExec() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let writer = try FileWriter(path: folder.file("out"), overwrite: false)
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
        let partial = descriptors.filter { fd in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
            return target.hasPrefix(folder.file(".out.partial-"))
        }
        try #require(partial.count == 1, "descriptors of the partial file: \(partial)")
        let info = try String(contentsOfFile: "/proc/self/fdinfo/\(partial[0])", encoding: .utf8)
        let flagsLine = try #require(info.split(separator: "\n").first { $0.hasPrefix("flags:") })
        let flags = try #require(
            Int(flagsLine.dropFirst("flags:".count).trimmingCharacters(in: .whitespaces), radix: 8))
        #expect(flags & 0o2_000_000 != 0, "O_CLOEXEC is not set: flags \(flagsLine)")
        await writer.abort()
        #expect(try folder.contents().isEmpty)
    }
}

@Suite("FileWriter: writes in place")
struct FileWriterInPlaceTests {
    /// Pieces written in any order, and in parts, land where they belong, after what the
    /// file held; the written prefix counts a piece once it is finished and stops at the
    /// first piece that is not.
    @Test func piecesLandInPlace() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let writer = try FileWriter(path: folder.file("out"), overwrite: false)
        let output = try #require(await writer.positionalOutput())
        #expect(await writer.positionalOutput() == nil, "one set of positional writes at a time")
        let pieces: [[UInt8]] = [Array("first ".utf8), Array("second ".utf8), Array("third".utf8)]
        let writes = InPlaceWrites(output: output, sizes: pieces.map(\.count))
        #expect(writes.length == 18)

        try pieces[2].withUnsafeBytes { try writes.write(UnsafeRawBufferPointer(rebasing: $0[2...]), piece: 2, at: 2) }
        try pieces[2].withUnsafeBytes { try writes.write(UnsafeRawBufferPointer(rebasing: $0[..<2]), piece: 2) }
        writes.finish(2)
        #expect(writes.writtenPrefix == 0)
        try pieces[0].withUnsafeBytes { try writes.write($0, piece: 0) }
        #expect(writes.writtenPrefix == 0, "piece 0 is written but not finished")
        writes.finish(0)
        #expect(writes.writtenPrefix == 6, "piece 1 is still missing")
        try pieces[1].withUnsafeBytes { try writes.write($0, piece: 1) }
        writes.finish(1)
        #expect(writes.writtenPrefix == 18)

        try await writer.endPositionalWrites(length: writes.length, complete: true)
        #expect(await writer.bytesWritten == 18)
        try await writer.write(Array("!".utf8))
        try await writer.commit()
        #expect(try folder.read("out") == Array("first second third!".utf8))
    }

    /// After a failure the file is cut back to the pieces finished from the start: a piece
    /// written beyond a missing one does not stay behind a hole, nor does part of a piece
    /// that never finished.
    @Test func aFailureCutsTheFileBackToThePrefix() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let writer = try FileWriter(path: folder.file("out"), overwrite: false)
        let output = try #require(await writer.positionalOutput())
        let writes = InPlaceWrites(output: output, sizes: [4, 4, 4])
        try Array("aaaa".utf8).withUnsafeBytes { try writes.write($0, piece: 0) }
        writes.finish(0)
        try Array("cccc".utf8).withUnsafeBytes { try writes.write($0, piece: 2) }
        writes.finish(2)
        // Piece 1's first half is written, but the piece never finished (its member failed its check).
        try Array("bb".utf8).withUnsafeBytes { try writes.write($0, piece: 1) }
        try await writer.endPositionalWrites(length: writes.writtenPrefix, complete: false)
        try await writer.commit()
        #expect(try folder.read("out") == Array("aaaa".utf8))
    }
}
