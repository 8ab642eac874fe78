import CISAL
import FPGADevice

/// Raw deflate with Intel ISA-L's igzip, level 1, ending each input with a sync flush.
struct ISALDeflateEngine: DeflateEngine {
    var name: String { "isa-l igzip level 1" }

    func compressBlocks(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        // The stream state is 80 KiB: keep it off the stack and out of Swift's copies.
        let stream = UnsafeMutablePointer<isal_zstream>.allocate(capacity: 1)
        defer { stream.deallocate() }
        // Start from zeroed state and tables, so the output depends on the input alone
        // and not on what earlier runs left in reused memory.
        UnsafeMutableRawPointer(stream).initializeMemory(
            as: UInt8.self, repeating: 0, count: MemoryLayout<isal_zstream>.size)
        let levelBufferSize = Int(cisal_level1_buffer_size())
        let levelBuffer = UnsafeMutableRawPointer.allocate(byteCount: levelBufferSize, alignment: 64)
        levelBuffer.initializeMemory(as: UInt8.self, repeating: 0, count: levelBufferSize)
        defer { levelBuffer.deallocate() }

        isal_deflate_init(stream)
        stream.pointee.level = 1
        stream.pointee.level_buf = levelBuffer.assumingMemoryBound(to: UInt8.self)
        stream.pointee.level_buf_size = UInt32(levelBufferSize)
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
