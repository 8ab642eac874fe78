#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A job's output where any thread may write bytes at their own offset, for outputs
/// whose every byte's place is known before it is made (an indexed file's members, see
/// ``InPlaceWrites``). Given out by ``FileWriter/positionalOutput()`` for a regular file
/// only, and valid until ``FileWriter/endPositionalWrites(length:complete:)``.
struct PositionalOutput: Sendable {
    /// The output's descriptor, open until the writer commits or aborts, which its job
    /// does only after every lane has finished.
    let descriptor: Int32
    /// The file offset of the output's first byte: where standard output stood when the
    /// job began (it may already hold bytes), or 0.
    let base: Int
    /// The output's path, for error messages (`-` for standard output).
    let path: String

    /// Writes all of `bytes` at `offset` from the output's first byte. Blocks.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(FileJobError) {
        var done = 0
        while done < bytes.count {
            let count = min(bytes.count - done, IOBuffer.largestWrite)
            let put = pwrite(descriptor, bytes.baseAddress! + done, count, off_t(base + offset + done))
            if put < 0 {
                if errno == EINTR { continue }
                throw .outputUnwritable(path, reason: systemErrorMessage())
            }
            done += put
        }
    }
}
