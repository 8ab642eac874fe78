import FPGAKernels
import FPGATransport
import Testing

@Suite("mutated frames")
struct FuzzTests {
    /// What the decoders did with the mutated streams.
    struct Tally {
        var streams = 0
        var frames = 0
        var messages = 0
        var headerErrors = 0
        var bodyErrors = 0
    }

    /// Reads 20,000 mutated streams through `FrameDecoder` as a connection reads its socket
    /// (reads of 1 to 64 bytes into the decoder's storage, a step after each) and decodes every
    /// frame it returns. Each must end in frames or a `WireError` (typed throws rule out
    /// anything else), and a message that decodes must encode back to the very bytes it came
    /// from. `make fuzz` runs a million frames, split every way, against a reference reading.
    @Test func mutatedFramesNeverCrash() throws {
        let originals = try sampleFrames().map(\.bytes)
        var random = SplitMix64(seed: 0x4657_2024)
        var tally = Tally()
        let smallLimits = WireLimits(maxBodyLength: 512)
        for _ in 0..<20_000 {
            var stream = originals.randomElement(using: &random)!
            if Int.random(in: 0..<4, using: &random) == 0 { stream += originals.randomElement(using: &random)! }
            for _ in 0..<Int.random(in: 1...4, using: &random) { mutate(&stream, using: &random) }
            let limits = Bool.random(using: &random) ? WireLimits.default : smallLimits
            var decoder = FrameDecoder(limits: limits)
            tally.streams += 1
            var offset = 0
            do {
                while offset < stream.count {
                    let count = min(Int.random(in: 1...64, using: &random), stream.count - offset)
                    let frames = try readAsConnection(&decoder, stream[offset..<(offset + count)])
                    offset += count
                    for frame in frames { check(frame, &tally) }
                }
            } catch {
                tally.headerErrors += 1
            }
        }
        // Enough of each outcome to show the mutations reach every part of the decoders.
        #expect(tally.frames > 2_000)
        #expect(tally.messages > 1_000)
        #expect(tally.headerErrors > 1_000)
        #expect(tally.bodyErrors > 1_000)
    }

    private func check(_ frame: Frame, _ tally: inout Tally) {
        tally.frames += 1
        guard frame.body.count == frame.header.bodyLength else {
            Issue.record("frame body of \(frame.body.count) bytes, header says \(frame.header.bodyLength)")
            return
        }
        let message: WireMessage
        do {
            message = try frame.decodeMessage()
        } catch {
            tally.bodyErrors += 1
            return
        }
        tally.messages += 1
        // Encoding is canonical: the decoded message gives back the same body.
        do {
            let again = try OutgoingFrame.message(message, requestID: frame.header.requestID)
            if again.head[2] != frame.header.type.rawValue || Array(again.head[16...]) + again.payload != frame.body {
                Issue.record("\(message.type) does not encode back to its bytes")
            }
        } catch {
            Issue.record("decoded \(message.type) does not encode: \(error)")
        }
    }

    private func mutate(_ bytes: inout [UInt8], using random: inout SplitMix64) {
        switch Int.random(in: 0..<9, using: &random) {
        case 0 where !bytes.isEmpty:  // Flip one bit.
            bytes[Int.random(in: bytes.indices, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 1 where !bytes.isEmpty:  // Replace one byte.
            bytes[Int.random(in: bytes.indices, using: &random)] = UInt8.random(in: 0...255, using: &random)
        case 2:  // Insert bytes.
            let at = Int.random(in: 0...bytes.count, using: &random)
            bytes.insert(
                contentsOf: (0..<Int.random(in: 1...4, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }, at: at)
        case 3 where !bytes.isEmpty:  // Delete bytes.
            let at = Int.random(in: bytes.indices, using: &random)
            bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...4, using: &random)))
        case 4:  // Truncate.
            bytes.removeSubrange(Int.random(in: 0...bytes.count, using: &random)...)
        case 5 where bytes.count >= 8:  // A random header body length, often near the real one.
            let current = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
            let length =
                Bool.random(using: &random)
                ? UInt32(truncatingIfNeeded: current + Int.random(in: -8...8, using: &random))
                : UInt32.random(in: 0...UInt32.max, using: &random)
            bytes.replaceSubrange(4..<8, with: littleEndian(length))
        case 6 where bytes.count > 18:  // A random u16 inside the body: a string length or a count.
            let at = Int.random(in: 16..<(bytes.count - 1), using: &random)
            let value: UInt16 = [0, 1, 0xff, 0x1000, 0x1001, 0xffff, UInt16.random(in: 0...0xffff, using: &random)]
                .randomElement(using: &random)!
            bytes.replaceSubrange(at..<(at + 2), with: littleEndian(value))
        case 7 where bytes.count > 20:  // A random u32 inside the body: a byte string length.
            let at = Int.random(in: 16..<(bytes.count - 3), using: &random)
            let value: UInt32 = [0, 1, 0xffff_ffff, UInt32.random(in: 0...0xffff_ffff, using: &random)]
                .randomElement(using: &random)!
            bytes.replaceSubrange(at..<(at + 4), with: littleEndian(value))
        default:  // Append a random byte.
            bytes.append(UInt8.random(in: 0...255, using: &random))
        }
    }
}
