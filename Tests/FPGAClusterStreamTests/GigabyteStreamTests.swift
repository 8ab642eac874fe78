import FPGACluster
import FPGATestSupport
import Foundation
import Testing

/// A stream of more than 1 GiB through the file API: bounded memory, output identical
/// under `gzip -dc` and our own parallel decompression.
@Suite("1 GiB stream through the file API")
struct GigabyteStreamTests {
    static let size = (1 << 30) + 12345

    @Test func gigabyteRoundTrip() async throws {
        let folder = try TemporaryDirectory("fpgacluster-stream")
        defer { folder.remove() }
        let input = folder.file("big.log")
        try writeLargeInput(to: input, size: Self.size)

        let cluster = try Cluster(devices: .simulated(count: 2))
        let before = peakResidentBytes()
        let report = try await cluster.compressFile(at: input, to: folder.file("big.log.gz"))
        #expect(report.bytesIn == Self.size)
        let chunk = Cluster.Configuration.defaultChunkSize
        #expect(report.chunks == (Self.size + chunk - 1) / chunk)
        #expect(report.chunksPerNode.count == 2)
        // The whole file never sits in memory: the peak grows by far less than its size.
        let growth = peakResidentBytes() - before
        #expect(growth < 512 << 20, "peak resident memory grew by \(growth >> 20) MiB")

        let gzipCheck = try await ExternalTools.run(
            ["sh", "-c", "gzip -dc \"$0\" | cmp - \"$1\"", folder.file("big.log.gz"), input], within: .seconds(900))
        #expect(gzipCheck.status == 0, "gzip -dc | cmp: \(gzipCheck.error)")

        try await cluster.decompressFile(at: folder.file("big.log.gz"), to: folder.file("back.log"))
        let ours = try await ExternalTools.run(["cmp", folder.file("back.log"), input], within: .seconds(900))
        #expect(ours.status == 0, "cmp: \(ours.error)")
        #expect(try folder.contents() == ["back.log", "big.log", "big.log.gz"])
    }

    /// Writes `size` bytes of varied log-like text, 8 MiB at a time, each block stamped
    /// with its number so that no two blocks are alike.
    private func writeLargeInput(to path: String, size: Int) throws {
        let block = TestData.logLines(count: 8 << 20)
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw ToolFailure("cannot create \(path)") }
        defer { try? handle.close() }
        var written = 0
        var number = 0
        while written < size {
            var piece = block
            let stamp = Array("block \(number) ".utf8)
            piece.replaceSubrange(0..<stamp.count, with: stamp)
            let count = min(piece.count, size - written)
            try handle.write(contentsOf: piece.prefix(count))
            written += count
            number += 1
        }
    }

    /// The process's peak resident set size (VmHWM), in bytes.
    private func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.split(separator: " ").dropFirst().first ?? "0"
            return (Int(digits) ?? 0) * 1024
        }
        return 0
    }
}
