import FPGADrivers
import Testing

/// Checks that `gz` holds the same data in the same members (chunking) as `expected`, for
/// example a run on one embedded device, without printing either array.
///
/// Equal bytes are the rule, but not asserted: on our 2-core CI machines ISA-L occasionally
/// picks a different (valid) match for the same input, in about one call in several
/// thousand, in a worker or in the test process alike, with or without lost workers (see
/// the Remote Workers article, Known limitations). Such a difference is printed, so that it
/// stays visible.
public func expectSameMembers(_ gz: [UInt8], _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation)
    async throws
{
    if gz == expected { return }
    let inflated = try ExternalTools.zlibDecompress(gz)
    let reference = try ExternalTools.zlibDecompress(expected)
    let sameData = inflated == reference  // compared outside #expect, which would print both arrays
    #expect(sameData, "the output's data differs: \(firstDifference(gz, expected))", sourceLocation: sourceLocation)
    let ours = try #require(try await GzipIndex.build(gz), sourceLocation: sourceLocation)
    let theirs = try #require(try await GzipIndex.build(expected), sourceLocation: sourceLocation)
    let sameChunking = ours.members.map(\.uncompressedSize) == theirs.members.map(\.uncompressedSize)
    #expect(sameChunking, "the members hold different chunks", sourceLocation: sourceLocation)
    print("note: same data and members, different deflate encoding: \(firstDifference(gz, expected))")
}

/// Where two gzip files first differ, member by member, for failure messages.
public func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
    let index = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
    var text = "sizes \(a.count) and \(b.count), first difference at byte \(index)"
    if let inflatedA = try? ExternalTools.zlibDecompress(a), let inflatedB = try? ExternalTools.zlibDecompress(b) {
        text += "; inflated sizes \(inflatedA.count) and \(inflatedB.count), equal: \(inflatedA == inflatedB)"
    } else {
        text += "; one does not inflate"
    }
    // The first member that differs.
    var offset = 0
    var number = 0
    while offset + 24 <= min(a.count, b.count) {
        let sizeA = Int(a[offset + 16]) | Int(a[offset + 17]) << 8 | Int(a[offset + 18]) << 16
        let sizeB = Int(b[offset + 16]) | Int(b[offset + 17]) << 8 | Int(b[offset + 18]) << 16
        if a[offset..<(offset + sizeA)] != b[offset..<min(b.count, offset + sizeB)] {
            let plainA = (try? ExternalTools.zlibDecompress(Array(a[offset..<(offset + sizeA)]))) ?? []
            let plainB = (try? ExternalTools.zlibDecompress(Array(b[offset..<(offset + sizeB)]))) ?? []
            text +=
                "; member \(number) at \(offset): sizes \(sizeA)/\(sizeB), inflated \(plainA.count)/\(plainB.count) equal \(plainA == plainB)"
            break
        }
        offset += sizeA
        number += 1
    }
    return text
}
