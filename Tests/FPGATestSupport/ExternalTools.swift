import CZlib

/// Runs other gzip readers on our output: the `gzip` program, Python's `gzip` module and
/// zlib itself.
public enum ExternalTools {
    /// Runs a program (found on the PATH by `/usr/bin/env`, which also takes `NAME=VALUE`
    /// and `-u NAME` before it) with `input` on standard input; returns its exit status (128
    /// + the signal if one ended it), standard output and standard error. A program still
    /// running after `bound` is killed and this throws a failure naming it.
    public static func run(
        _ arguments: [String], input: [UInt8] = [], within bound: Duration = ChildProcess.watchdog
    ) async throws -> (status: Int32, output: [UInt8], error: String) {
        let child = try await ChildProcess.start("/usr/bin/env", arguments: arguments, input: .bytes(input))
        let status = try await child.exit(within: bound)
        return (status.code, child.output, child.errorText)
    }

    /// `gzip -dc` of `compressed`.
    public static func gzipDecompress(_ compressed: [UInt8]) async throws -> [UInt8] {
        let result = try await run(["gzip", "-dc"], input: compressed)
        guard result.status == 0 else { throw ToolFailure("gzip -dc exited \(result.status): \(result.error)") }
        return result.output
    }

    /// Python's `gzip.decompress` of `compressed`.
    public static func pythonDecompress(_ compressed: [UInt8]) async throws -> [UInt8] {
        let script = "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))"
        let result = try await run(["python3", "-c", script], input: compressed)
        guard result.status == 0 else { throw ToolFailure("python3 gzip exited \(result.status): \(result.error)") }
        return result.output
    }

    /// zlib's inflate of every member of `compressed` in turn (windowBits 31: gzip).
    public static func zlibDecompress(_ compressed: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        var stream = z_stream()
        guard inflateInit2_(&stream, 31, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ToolFailure("inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var piece = [UInt8](repeating: 0, count: 1 << 16)
        try compressed.withUnsafeBytes { raw in
            var position = 0
            repeat {
                stream.next_in = UnsafeMutablePointer(
                    mutating: raw.baseAddress!.advanced(by: position).assumingMemoryBound(to: UInt8.self))
                stream.avail_in = UInt32(raw.count - position)
                var status: Int32 = Z_OK
                repeat {
                    status = piece.withUnsafeMutableBytes { out in
                        stream.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        stream.avail_out = UInt32(out.count)
                        return inflate(&stream, Z_NO_FLUSH)
                    }
                    output.append(contentsOf: piece[0..<(piece.count - Int(stream.avail_out))])
                } while status == Z_OK && stream.avail_out == 0
                guard status == Z_STREAM_END else { throw ToolFailure("zlib inflate stopped with status \(status)") }
                position = raw.count - Int(stream.avail_in)
                inflateReset(&stream)
            } while position < raw.count
        }
        return output
    }
}

/// A helper tool failed.
public struct ToolFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
