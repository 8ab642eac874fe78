extension UnsafeMutableRawBufferPointer {
    /// Copies `bytes` into the start of this buffer, which holds at least `bytes.count`:
    /// one `memcpy` when the collection is contiguous, element by element otherwise.
    func copyBytes(of bytes: some Collection<UInt8>) {
        let copied: Bool? = bytes.withContiguousStorageIfAvailable { source in
            copyMemory(from: UnsafeRawBufferPointer(source))
            return true
        }
        if copied == nil { copyBytes(from: bytes) }
    }
}
