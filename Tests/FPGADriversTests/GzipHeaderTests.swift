import FPGADrivers
import FPGATestSupport
import Testing

@Suite("gzip headers from any writer")
struct GzipHeaderTests {
    func parse(_ bytes: [UInt8]) throws -> GzipHeader.ParseResult {
        try bytes.withUnsafeBytes { try GzipHeader.parse($0, offset: 0) }
    }

    @Test func gzipWithFileName() async throws {
        // gzip stores the name of a file it compresses (FNAME).
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("named.txt", Array("hello\n".utf8))
        let gz = try await ExternalTools.run(["gzip", "-c", folder.file("named.txt")]).output
        guard case .header(let header) = try parse(gz) else {
            Issue.record("expected a header")
            return
        }
        #expect(header.length == 10 + "named.txt".utf8.count + 1)
        #expect(header.index == nil)
    }

    @Test func headerCRCAndCommentAreHonoured() throws {
        // FLG = FHCRC | FCOMMENT, comment "hi", then the CRC16 of the header.
        var header: [UInt8] = [0x1f, 0x8b, 8, 0x12, 0, 0, 0, 0, 0, 3] + Array("hi".utf8) + [0]
        let crc = header.withUnsafeBytes { UInt16(truncatingIfNeeded: crc32Reference($0)) }
        header += [UInt8(crc & 0xff), UInt8(crc >> 8)]
        #expect(try parse(header) == .header(GzipHeader(length: header.count, index: nil)))
        header[header.count - 1] ^= 1
        #expect(throws: GzipError.badHeader("header CRC mismatch", offset: 0)) { try parse(header) }
    }

    @Test func shortInputAsksForMore() throws {
        #expect(try parse([0x1f, 0x8b, 8]) == .needMore(10))
        #expect(try parse([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 12]) == .needMore(12))
        #expect(try parse([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 12, 0]) == .needMore(24))
        #expect(throws: GzipError.notGzip(offset: 0)) { try parse([0x50]) }
    }

    @Test func malformedIndexSubfieldIsRejected() throws {
        // FC with length 4 instead of 8.
        let bad: [UInt8] = [0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 8, 0, 0x46, 0x43, 4, 0, 1, 2, 3, 4]
        #expect(throws: GzipError.badHeader("FC subfield has length 4, not 8", offset: 0)) { try parse(bad) }
        // A subfield that runs past XLEN.
        let past: [UInt8] = [0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 6, 0, 0x41, 0x42, 9, 0, 1, 2]
        #expect(throws: GzipError.badHeader("FEXTRA subfield runs past the extra field", offset: 0)) {
            try parse(past)
        }
    }

    /// A bitwise CRC-32, independent of the library's.
    private func crc32Reference(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
