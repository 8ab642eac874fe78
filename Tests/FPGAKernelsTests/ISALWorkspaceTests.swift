import FPGADevice
import Testing

@testable import FPGAKernels

@Suite("ISA-L workspace")
struct ISALWorkspaceTests {
    @Test("a bucket is the CPU's crc32 (CRC-32C) of the value, masked to 8,192 entries")
    func bucketIsTheCRC32Instruction() {
        // Measured in C with _mm_crc32_u32(0, value) & 8191 on this project's test machines.
        #expect(ISALWorkspace.hashBucket(0x7FFF_F6CC) == 3956)
        #expect(ISALWorkspace.hashBucket(0x5000_03E8) == 6933)
        #expect(ISALWorkspace.hashBucket(0x5000_03E9) == 4525)
        #expect(ISALWorkspace.hashBucket(0x5000_03EA) == 6292)
        #expect(ISALWorkspace.hashBucket(0) == 0)
    }

    @Test("the next block of a bucket is solved for, and is the one trying every block finds")
    func nextBlockOfABucket() {
        let starts: [UInt] = [0, 1, 8191, 8192, 1 << 28, (1 << 28) + 12_345, (1 << 31) - 5, (1 << 32) - 2]
        for start in starts {
            for bucket in [0, 1, 4525, 8191] {
                var tried = start + 1
                while ISALWorkspace.hashBucket(UInt32(truncatingIfNeeded: tried)) != bucket { tried += 1 }
                #expect(
                    ISALWorkspace.solvedBlock(after: start, bucket: bucket) == tried, "start \(start), bucket \(bucket)"
                )
            }
        }
    }

    @Test("every workspace's stream starts a 64 KiB block of the one stream bucket")
    func streamsShareOneBucket() throws {
        let workspaces = try (0..<16).map { _ in try #require(ISALWorkspace()) }
        for workspace in workspaces {
            #expect(UInt(bitPattern: workspace.stream) % (1 << 16) == 0)
            #expect(ISALWorkspace.streamBucket(of: workspace.stream) == ISALWorkspace.streamBucket)
        }
        #expect(Set(workspaces.map { UInt(bitPattern: $0.stream) }).count == workspaces.count)
    }

    /// Letters (16 of them, so that Huffman coding pays and no block is stored) whose first
    /// four hash to `bucket`, none of whose later four-byte windows hashes there but the one
    /// where the first 16 letters come again: deflate finds that repeat only through
    /// `bucket`, which still holds position 0 unless ISA-L's stray write went there.
    func repeatingItsStart(bucket: Int) throws -> [UInt8] {
        func window(_ bytes: [UInt8], _ at: Int) -> UInt32 {
            bytes[at..<at + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        func letters(_ count: Int, seed: UInt64) -> [UInt8] {
            pseudoRandomBytes(count, seed: seed).map { 0x61 + $0 % 16 }
        }
        for seed in UInt64(1)...100_000 {
            var bytes = letters(1000, seed: seed)
            guard ISALWorkspace.hashBucket(window(bytes, 0)) == bucket else { continue }
            bytes += bytes[0..<16] + letters(1000, seed: seed &+ 1)
            let others = (1...(bytes.count - 4)).filter { ISALWorkspace.hashBucket(window(bytes, $0)) == bucket }
            if others == [1000] { return bytes }
        }
        throw KernelFault("no seed gives such bytes")
    }

    func compress(_ input: [UInt8], in workspace: ISALWorkspace) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: deflateBound(input.count))
        let count = try input.withUnsafeBytes { source in
            try output.withUnsafeMutableBytes {
                try ISALDeflateEngine().compressBlocks(source, into: $0, in: workspace)
            }
        }
        return Array(output.prefix(count))
    }

    @Test("ISA-L's output follows the stream's bucket; in our workspaces it is the same bytes every time")
    func outputDoesNotDependOnWhereTheStreamLies() throws {
        let input = try repeatingItsStart(bucket: ISALWorkspace.streamBucket)
        let ours = try (0..<3).map { _ in try compress(input, in: #require(ISALWorkspace())) }
        #expect(Set(ours).count == 1)
        // A stream in another bucket finds the repeat: other bytes, as valid.
        let elsewhere = try compress(input, in: #require(ISALWorkspace(streamBucket: 1)))
        #expect((elsewhere == ours[0]) == false)
        for output in [ours[0], elsewhere] {
            #expect(try zlibInflate(output + finalEmptyStoredBlock) == input)
        }
    }
}
