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
