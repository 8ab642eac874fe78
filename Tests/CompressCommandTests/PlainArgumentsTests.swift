import ArgumentParser
import FPGAKernels
import Testing

@testable import fpga_compress

/// `fpga-compress` reads its plain gzip forms without swift-argument-parser
/// (`CompressInvocation(plainArguments:)`): wherever that reader gives an invocation, the
/// parser must give the same one, and where the parser rejects a command line or reads it as
/// something else (help, version), the reader must give none.
@Suite("fpga-compress plain arguments")
struct PlainArgumentsTests {
    /// Pieces of command lines: flags, options with good and bad values, inputs, and forms
    /// the reader leaves to the parser.
    static let pieces: [[String]] = [
        ["-d"], ["-c"], ["-f"], ["-k"], ["-q"], ["-dc"], ["-cd"], ["-dcq"], ["-dk"], ["-dd"], ["-dx"], ["-"],
        ["--decompress"], ["--stdout"], ["--force"], ["--keep"], ["--quiet"],
        ["-o", "out.txt"], ["-o", "-"], ["-o"], ["-do", "out.txt"],
        ["--local", "2"], ["--local", "0"], ["--local", "300"], ["--local", "x"], ["--local", "-1"], ["--local=2"],
        ["--local", "+3"], ["--chunk-size", "1M"], ["--chunk-size", "bad"], ["--chunk-size", "1"],
        ["in.gz"], ["notes"], ["a b.tgz"], [""], ["--"], ["-x"], ["--bogus"], ["-h"], ["--help"], ["--version"],
        ["--workers", "127.0.0.1:1"], ["--metrics-listen", "127.0.0.1:0"], ["--token-file", "t"],
        ["--generate-completion-script", "bash"],
    ]

    /// The parser's reading of `arguments`: the invocation, or nil when it rejects them or
    /// reads them as another command (help, version, completions).
    static func parsed(_ arguments: [String]) -> CompressInvocation? {
        (try? FPGACompress.parseAsRoot(arguments) as? FPGACompress)?.invocation
    }

    static func check(_ arguments: [String]) {
        let plain = CompressInvocation(plainArguments: arguments)
        guard let plain else { return }
        #expect(plain == parsed(arguments), "\(arguments)")
    }

    @Test func everyLineOfOneOrTwoPiecesReadsAsTheParserReadsIt() {
        for first in Self.pieces {
            Self.check(first)
            for second in Self.pieces { Self.check(first + second) }
        }
    }

    @Test func randomLongerLinesReadAsTheParserReadsThem() {
        var generator = SplitMix64(seed: 0x6e7a)
        for _ in 0..<3000 {
            let count = Int.random(in: 3...6, using: &generator)
            Self.check((0..<count).flatMap { _ in Self.pieces.randomElement(using: &generator)! })
        }
    }

    @Test func thePlainFormsSkipTheParser() throws {
        let lines: [[String]] = [
            ["-dc", "in.gz"], ["in"], ["-q", "-o", "out", "in"], ["--local", "2", "-d", "in.gz"], ["-d", "-"],
            ["-"], ["--chunk-size", "512K", "-f", "in"], ["in", "-cd"],
        ]
        for arguments in lines {
            let plain = try #require(CompressInvocation(plainArguments: arguments), "\(arguments)")
            #expect(plain == Self.parsed(arguments), "\(arguments)")
        }
        #expect(CompressInvocation(plainArguments: ["-dc", "in.gz"])?.decompress == true)
        #expect(CompressInvocation(plainArguments: ["--local", "2", "in"])?.devices.localDevices == 2)
    }

    @Test func everythingElseIsLeftToTheParser() {
        let lines: [[String]] = [
            [], ["--help"], ["-h"], ["--version"], ["--", "in"], ["-d", "-d", "in"], ["a", "b"],
            ["-c", "-o", "x", "in"],
            ["--local", "0", "in"], ["--local=2", "in"], ["--chunk-size", "lots", "in"], ["-o", "-x", "in"],
            ["--workers", "h:1", "in"], ["--metrics-listen", "127.0.0.1:0", "in"], ["-dz", "in"],
        ]
        for arguments in lines { #expect(CompressInvocation(plainArguments: arguments) == nil, "\(arguments)") }
    }
}
