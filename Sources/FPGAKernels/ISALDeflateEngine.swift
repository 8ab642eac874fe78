import CISAL
import FPGADevice

/// Raw deflate with Intel ISA-L's igzip, level 1, ending each input with a sync flush.
struct ISALDeflateEngine: DeflateEngine {
    var name: String { "isa-l igzip level 1" }

    func compressBlocks(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        try ISALWorkspace.withWorkspace { try compressBlocks(input, into: output, in: $0) }
    }

    /// Compresses in `workspace`, which must be zeroed (fresh, or reset).
    func compressBlocks(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, in workspace: ISALWorkspace
    ) throws -> Int {
        let stream = workspace.stream
        isal_deflate_init(stream)
        stream.pointee.level = 1
        stream.pointee.level_buf = workspace.levelBuffer.assumingMemoryBound(to: UInt8.self)
        stream.pointee.level_buf_size = UInt32(workspace.levelBufferSize)
        stream.pointee.end_of_stream = 0
        stream.pointee.flush = UInt16(SYNC_FLUSH)
        stream.pointee.gzip_flag = UInt16(IGZIP_DEFLATE)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(output.count)
        let status = isal_deflate(stream)
        guard status == COMP_OK else { throw KernelFault("isal_deflate failed with status \(status)") }
        guard stream.pointee.avail_in == 0, stream.pointee.internal_state.state == ZSTATE_NEW_HDR else {
            throw KernelFault("output buffer of \(output.count) bytes is too small for \(input.count) input bytes")
        }
        return output.count - Int(stream.pointee.avail_out)
    }
}
