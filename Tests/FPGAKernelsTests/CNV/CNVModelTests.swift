import Testing

@testable import FPGAKernels

@Suite("CNV model file")
struct CNVModelTests {
    /// 16 header bytes, the weight bits of the nine layers, 8 bytes per batch-norm channel
    /// and 5 floats, from the format's table.
    static let expectedSize =
        16
        + (64 * 27 + 64 * 576 + 128 * 576 + 128 * 1152 + 256 * 1152 + 256 * 2304
            + 512 * 256 + 512 * 512 + 10 * 512) / 8 + 8 * (64 + 64 + 128 + 128 + 256 + 256 + 512 + 512) + 20

    /// The offset of `layer`'s threshold entry for `channel`.
    static func thresholdOffset(layer: Int, channel: Int) -> Int {
        let table = [(27, 64), (576, 64), (576, 128), (1152, 128), (1152, 256), (2304, 256), (256, 512), (512, 512)]
        var offset = 16
        for (index, (fanIn, cout)) in table.enumerated() {
            offset += fanIn * cout / 8
            if index == layer { return offset + 8 * channel }
            offset += 8 * cout
        }
        fatalError("no layer \(layer)")
    }

    @Test("a written model reads back the same, at the format's size and offsets")
    func roundTrip() throws {
        for seed: UInt64 in [1, 2] {
            let model = CNVModel.random(seed: seed)
            let bytes = model.fileBytes()
            #expect(bytes.count == Self.expectedSize)
            #expect(CNVModel.fileSize == Self.expectedSize)
            #expect(Array(bytes[0..<16]) == Array("CNVW1A1".utf8) + [0, 1, 0, 0, 0, 0, 0, 0, 0])
            #expect(try CNVModel(fileBytes: bytes) == model)
            let offset = Self.thresholdOffset(layer: 3, channel: 5)
            let threshold = model.thresholds[3][5]
            let value = Int32(bitPattern: bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
            #expect(value == threshold.value)
            #expect(bytes[offset + 4] == (threshold.direction == .atLeast ? 1 : 0xFF))
        }
        // Random models use both directions and the constant-channel encoding.
        let all = CNVModel.random(seed: 3).thresholds.joined()
        #expect(all.contains { $0.direction == .atMost } && all.contains { $0.value == .min })
    }

    @Test("the weight bit order is PyTorch's flat order, least significant bit first")
    func weightBits() throws {
        var bytes = CNVModel.random(seed: 4).fileBytes()
        // conv1 starts after the header, conv0's 216 weight bytes and 64 thresholds.
        let conv1 = 16 + 216 + 64 * 8
        bytes[conv1] = 0b0000_0100
        let model = try CNVModel(fileBytes: bytes)
        #expect(model.weight(layer: 1, index: 2) == 1)
        #expect(model.weight(layer: 1, index: 0) == -1)
        #expect(model.weight(layer: 1, index: 7) == -1)
    }

    @Test("wrong sizes, magic, version, reserved word, directions and TensorNorm are typed errors")
    func errors() throws {
        let good = CNVModel.random(seed: 5).fileBytes()
        #expect(throws: CNVModelError.wrongSize(good.count - 1, expected: good.count)) {
            try CNVModel(fileBytes: good.dropLast())
        }
        #expect(throws: CNVModelError.wrongSize(good.count + 1, expected: good.count)) {
            try CNVModel(fileBytes: good + [0])
        }
        #expect(throws: CNVModelError.wrongSize(0, expected: good.count)) { try CNVModel(fileBytes: []) }
        var bytes = good
        bytes[0] = UInt8(ascii: "X")
        #expect(throws: CNVModelError.badMagic) { try CNVModel(fileBytes: bytes) }
        bytes = good
        bytes[8] = 2
        #expect(throws: CNVModelError.unsupportedVersion(2)) { try CNVModel(fileBytes: bytes) }
        #expect(throws: CNVModelError.unsupportedVersion(2)) { try CNVModel(fileBytes: bytes[0..<100]) }
        bytes = good
        bytes[13] = 1
        #expect(throws: CNVModelError.reservedNotZero(256)) { try CNVModel(fileBytes: bytes) }
        for (direction, value) in [
            ([0, 0, 0, 0] as [UInt8], Int32(0)), ([2, 0, 0, 0], 2), ([0xFE, 0xFF, 0xFF, 0xFF], -2),
        ] {
            bytes = good
            let offset = Self.thresholdOffset(layer: 3, channel: 5) + 4
            bytes.replaceSubrange(offset..<offset + 4, with: direction)
            #expect(throws: CNVModelError.badDirection(layer: "conv3", channel: 5, value: value)) {
                try CNVModel(fileBytes: bytes)
            }
        }
        bytes = good
        let tensorNorm = good.count - 20
        bytes.replaceSubrange(tensorNorm + 4..<tensorNorm + 8, with: [0, 0, 0x80, 0xBF])  // var = -1
        #expect(throws: CNVModelError.self) { try CNVModel(fileBytes: bytes) }
        bytes.replaceSubrange(tensorNorm..<tensorNorm + 4, with: [0, 0, 0xC0, 0x7F])  // mean = NaN
        #expect(throws: CNVModelError.self) { try CNVModel(fileBytes: bytes) }
        let errors: [CNVModelError] = [
            .wrongSize(1, expected: 2), .badMagic, .unsupportedVersion(3), .reservedNotZero(1),
            .badDirection(layer: "fc0", channel: 1, value: 0), .badTensorNorm("var + eps is 0.0, not positive"),
        ]
        for error in errors { #expect(!error.description.isEmpty && !error.description.contains("\n")) }
    }

    @Test("the input quantiser table follows its definition's documented ranges")
    func inputCodes() {
        let codes = CNVInputQuantizer.codes
        #expect(codes.count == 256)
        for pixel in 0...127 { #expect(Int(codes[pixel]) == pixel - 128) }
        for pixel in 128...254 { #expect(Int(codes[pixel]) == pixel - 127) }
        #expect(codes[255] == 127)
        #expect(!codes.contains(0))
        // Round half to even: 2 * 127.5 / 255 - 1 lies between pixels; check the neighbours.
        #expect(CNVInputQuantizer.code(forPixel: 127) == -1 && CNVInputQuantizer.code(forPixel: 128) == 1)
    }
}
