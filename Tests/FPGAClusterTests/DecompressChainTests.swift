import FPGACluster
import FPGADrivers
import FPGATestSupport
import Testing

/// Regular files without our member index go through member chains (found by their
/// headers and inflated in parallel, see `GzipMemberChain`) when they span several
/// segments: the output and every error must be the sequential path's.
@Suite("decompression of foreign multi-member files: member chains")
struct DecompressChainTests {
    /// Decompresses `file` from a regular file; returns the output and the report, or
    /// the error and whether anything was left in the folder besides the input.
    func decompressFile(_ file: [UInt8]) async throws -> Result<([UInt8], JobReport), GzipError> {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try folder.write("input.gz", file)
        let cluster = try Cluster(devices: .simulated(count: 1))
        do {
            let report = try await cluster.decompressFile(at: folder.file("input.gz"), to: folder.file("output"))
            return .success((try folder.read("output"), report))
        } catch let error as GzipError {
            #expect(try folder.contents() == ["input.gz"], "a failed decompression leaves nothing behind")
            return .failure(error)
        }
    }

    /// What the sequential path (standard input, or any small file) makes of `file`.
    func sequential(_ file: [UInt8]) -> Result<[UInt8], GzipError> {
        let inflater = GzipStreamInflater()
        var output: [UInt8] = []
        do {
            try file.withUnsafeBytes { try inflater.feed($0) { output.append(contentsOf: $0) } }
            try inflater.finish()
            return .success(output)
        } catch let error as GzipError {
            return .failure(error)
        } catch {
            Issue.record("not a GzipError: \(error)")
            return .failure(.truncated(offset: -1))
        }
    }

    /// What `Cluster.decompress` makes of `file` in memory.
    func inMemory(_ file: [UInt8]) async throws -> Result<[UInt8], GzipError> {
        let cluster = try Cluster(devices: .simulated(count: 1))
        do { return .success(try await cluster.decompress(file)) } catch let error as GzipError {
            return .failure(error)
        }
    }

    /// Members of a few KiB to a few hundred: many per segment, and some across them.
    func mixedMembers(count: Int) -> (file: [UInt8], data: [UInt8], members: Int) {
        var file: [UInt8] = []
        var data: [UInt8] = []
        for number in 0..<count {
            let part =
                number % 3 == 0
                ? TestData.random(count: 1_000 + number * 3_000, seed: UInt64(number + 1))
                : TestData.logLines(count: 2_000 + number * 12_000, seed: UInt64(number))
            file += ZlibGzip.member(part, level: Int32(1 + number % 9))
            data += part
        }
        return (file, data, count)
    }

    @Test func manyMembersComeOutWholeAndInOrder() async throws {
        let (file, data, members) = mixedMembers(count: 60)
        #expect(file.count > 2 << 20, "several segments")
        let (output, report) = try await decompressFile(file).get()
        #expect(output == data)
        #expect(report.chunks == members)
        #expect(report.bytesIn == file.count)
        #expect(report.bytesOut == data.count)
        let inMemory = try await inMemory(file).get() == data
        #expect(inMemory)
    }

    /// A member larger than a chain may hold (32 MiB of output) is inflated by the
    /// writer itself, between members that chains hold.
    @Test func aMemberLargerThanAChainHoldsIsInflatedInTurn() async throws {
        let small = mixedMembers(count: 12)
        let large = TestData.repetitive(count: 40 << 20)
        let file = small.file + ZlibGzip.member(large, level: 1) + small.file
        let (output, report) = try await decompressFile(file).get()
        #expect(output.count == small.data.count * 2 + large.count)
        let same = output == small.data + large + small.data
        #expect(same)
        #expect(report.chunks == 25)
    }

    /// A gzip file stored (level 0) in a member has real member headers, each followed
    /// by a valid member, at offsets that are not member starts: chains found there must
    /// not be used.
    @Test func gzipFilesStoredInsideAMemberAreNotMistakenForMembers() async throws {
        let inner = mixedMembers(count: 30)
        #expect(inner.file.count > 1 << 20, "several segments")
        let outer = ZlibGzip.member(Array("before ".utf8) + inner.file + Array(" after".utf8), level: 0)
        let tail = mixedMembers(count: 5)
        let expected = Array("before ".utf8) + inner.file + Array(" after".utf8) + tail.data
        let (output, report) = try await decompressFile(outer + tail.file).get()
        let same = output == expected
        #expect(same)
        #expect(report.chunks == 6)
        let inMemory = try await inMemory(outer + tail.file).get() == expected
        #expect(inMemory)
    }

    @Test func oneLargeMemberComesOutWhole() async throws {
        let data = TestData.random(count: 3 << 20)
        let (output, report) = try await decompressFile(ZlibGzip.member(data, level: 1)).get()
        #expect(output == data)
        #expect(report.chunks == 1)
    }

    @Test func zeroPaddingIsIgnoredAndDamageIsTheSequentialPathsError() async throws {
        let (file, data, _) = mixedMembers(count: 40)
        let (padded, _) = try await decompressFile(file + [UInt8](repeating: 0, count: 3000)).get()
        #expect(padded == data)

        // Trailing garbage; a member cut short by the end; a damaged member in the middle
        // (its CRC, its deflate data) and its last one; a bad header half way.
        var cases: [[UInt8]] = [file + Array("garbage".utf8), Array(file.dropLast(5))]
        for position in [file.count / 2, file.count / 3, file.count - 6] {
            var damaged = file
            damaged[position] ^= 0x55
            cases.append(damaged)
        }
        for damaged in cases {
            guard case .failure(let expected) = sequential(damaged) else {
                Issue.record("the sequential path accepted a damaged file")
                continue
            }
            guard case .failure(let error) = try await decompressFile(damaged) else {
                Issue.record("member chains accepted a damaged file (\(expected))")
                continue
            }
            #expect(error == expected)
            #expect(try await inMemory(damaged) == .failure(expected))
        }
    }

    /// Seeded layouts: members of 0 bytes to a few MiB at every level (stored ones too),
    /// now and then a gzip file stored inside a member, zero padding or a damaged byte.
    /// The file path, the in-memory path and the sequential inflater must agree on every
    /// output byte and every error.
    @Test(arguments: 1...6) func seededLayoutsAgreeWithTheSequentialPath(seed: UInt64) async throws {
        // The layout's dice: bytes of the seed's random stream, one per choice.
        let dice = TestData.random(count: 4096, seed: seed)
        var rolls = 0
        func roll(_ sides: Int) -> Int {
            defer { rolls += 1 }
            return Int(dice[rolls % dice.count]) % sides
        }
        func nextSeed() -> UInt64 { seed &* 1_000_003 &+ UInt64(rolls) }
        var file: [UInt8] = []
        while file.count < 3 << 20 {
            let size = [0, 100, 40_000, 300_000, 1_500_000][roll(5)]
            var part =
                roll(2) == 0
                ? TestData.random(count: size, seed: nextSeed()) : TestData.logLines(count: size, seed: nextSeed())
            if roll(6) == 0 {
                // A gzip file inside this member, stored so that its headers show.
                part += ZlibGzip.member(TestData.logLines(count: 200_000, seed: nextSeed()), level: 6)
            }
            file += ZlibGzip.member(part, level: Int32(roll(10)))
        }
        if roll(3) == 0 { file += [UInt8](repeating: 0, count: roll(100)) }
        if seed % 2 == 0 {
            let position = (roll(256) << 16 | roll(256) << 8 | roll(256)) % file.count
            file[position] ^= UInt8(1 + roll(255))
        }

        let expected = sequential(file)
        switch (expected, try await decompressFile(file)) {
        case (.success(let want), .success(let (got, _))): #expect(got == want, "seed \(seed)")
        case (.failure(let want), .failure(let got)): #expect(got == want, "seed \(seed)")
        case (let want, let got): Issue.record("seed \(seed): sequential \(want), file \(got.map { $0.1 })")
        }
        let memory = try await inMemory(file)
        #expect(memory == expected, "seed \(seed)")
    }
}
