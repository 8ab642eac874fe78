import FPGATestSupport
import Foundation
import Testing

/// `fpga-compress` as a user runs it.
@Suite("fpga-compress command line")
struct CompressCommandTests {
    /// The built executable, beside the test bundle.
    static let executable: String = {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("fpga-compress").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return "fpga-compress"
    }()

    func run(_ arguments: [String], input: [UInt8] = []) throws -> (status: Int32, output: [UInt8], error: String) {
        try ExternalTools.run([Self.executable] + arguments, input: input)
    }

    @Test func compressAndDecompressLikeGzip() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = TestData.logLines(count: 200_000)
        try folder.write("notes.txt", data)

        let compressed = try run(["--local", "2", "--chunk-size", "16K", folder.file("notes.txt")])
        #expect(compressed.status == 0, "\(compressed.error)")
        #expect(compressed.error.contains("chunks sim0="), "summary line: \(compressed.error)")
        #expect(compressed.error.split(separator: "\n").count == 1)
        #expect(try ExternalTools.gzipDecompress(try folder.read("notes.txt.gz")) == data)

        try FileManager.default.removeItem(atPath: folder.file("notes.txt"))
        let restored = try run(["-d", "-q", folder.file("notes.txt.gz")])
        #expect(restored.status == 0, "\(restored.error)")
        #expect(restored.error.isEmpty)
        #expect(try folder.read("notes.txt") == data)
        #expect(try folder.contents() == ["notes.txt", "notes.txt.gz"])
    }

    @Test func pipesThroughStandardStreams() throws {
        let data = TestData.logLines(count: 50_000)
        let compressed = try run(["-c", "-q", "-"], input: data)
        #expect(compressed.status == 0, "\(compressed.error)")
        #expect(try ExternalTools.gzipDecompress(compressed.output) == data)
        let restored = try run(["-d", "-c", "-q", "-"], input: compressed.output)
        #expect(restored.status == 0, "\(restored.error)")
        #expect(restored.output == data)
    }

    @Test func errorsAreOneLineAndLeaveNothing() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }

        let missing = try run([folder.file("nothing")])
        #expect(missing.status == 1)
        #expect(missing.error == "fpga-compress: \(folder.file("nothing")): no such file\n")

        try folder.write("a", [1, 2, 3])
        try folder.write("a.gz", [9])
        let exists = try run([folder.file("a")])
        #expect(exists.status == 1)
        #expect(exists.error.hasPrefix("fpga-compress: ") && exists.error.contains("already exists"))
        #expect(exists.error.split(separator: "\n").count == 1)
        #expect(try folder.read("a.gz") == [9])

        try folder.write("bad.gz", Array("this is not gzip".utf8))
        let corrupt = try run(["-d", folder.file("bad.gz")])
        #expect(corrupt.status == 1)
        #expect(corrupt.error == "fpga-compress: not in gzip format (at byte 0)\n")

        let suffix = try run(["-d", folder.file("a")])
        #expect(suffix.status == 1)
        #expect(suffix.error.contains("unknown suffix"))

        let size = try run(["--chunk-size", "lots", folder.file("a")])
        #expect(size.status != 0)
        #expect(size.error.contains("--chunk-size"))

        #expect(try folder.contents() == ["a", "a.gz", "bad.gz"])
    }

    @Test func forceOverwrites() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("a", Array("fresh".utf8))
        try folder.write("a.gz", [9])
        let forced = try run(["-f", "-q", folder.file("a")])
        #expect(forced.status == 0, "\(forced.error)")
        #expect(try ExternalTools.gzipDecompress(try folder.read("a.gz")) == Array("fresh".utf8))
    }
}
