import Testing

/// Checks that `gz` is byte for byte `expected`, for example a run on one embedded device,
/// without printing either array; on a difference it says where, and whether the data or
/// only the deflate encoding differs.
///
/// The same chunks make the same bytes on every device, local or remote, in every process:
/// the kernel's ISA-L workspaces keep that so (see `ISALWorkspace` in FPGAKernels).
public func expectSameBytes(_ gz: [UInt8], _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    let same = gz == expected  // compared outside #expect, which would print both arrays
    #expect(same, "\(same ? "" : firstDifference(gz, expected))", sourceLocation: sourceLocation)
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
