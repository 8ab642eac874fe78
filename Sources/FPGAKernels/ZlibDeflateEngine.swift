import CZlib
import FPGADevice

/// Raw deflate with zlib, level 1, ending each input with a sync flush: the reference.
struct ZlibDeflateEngine: DeflateEngine {
    var name: String { "zlib level 1" }

    func compressBlocks(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        var stream = z_stream()
        let initStatus = deflateInit2_(
            &stream, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw KernelFault("deflateInit2 failed with status \(initStatus)") }
        defer { deflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(input.count)
        stream.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = UInt32(output.count)
        let status = deflate(&stream, Z_SYNC_FLUSH)
        guard status == Z_OK || status == Z_BUF_ERROR, stream.avail_in == 0, stream.avail_out > 0 else {
            throw KernelFault("output buffer of \(output.count) bytes is too small for \(input.count) input bytes")
        }
        return output.count - Int(stream.avail_out)
    }
}
