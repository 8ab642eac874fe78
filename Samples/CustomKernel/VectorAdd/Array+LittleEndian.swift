extension [UInt32] {
    /// The first `count` little-endian `UInt32`s of `bytes`, which holds at least that many:
    /// one copy on a little-endian host. Device buffers and wire payloads hold elements so.
    init(littleEndian bytes: UnsafeRawBufferPointer, count: Int) {
        self.init(unsafeUninitializedCapacity: count) { elements, initialized in
            #if _endian(little)
                UnsafeMutableRawBufferPointer(elements).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: bytes[0..<(count * VectorAddKernel.elementSize)]))
            #else
                for index in 0..<count {
                    elements[index] = UInt32(
                        littleEndian: bytes.loadUnaligned(
                            fromByteOffset: index * VectorAddKernel.elementSize, as: UInt32.self))
                }
            #endif
            initialized = count
        }
    }
}
