import CISAL
import CZlib

/// The checksums a gzip or zlib stream carries.
public enum Checksum {
    /// The CRC-32 of gzip (ISO 3309), continuing from `crc` (0 to start).
    public static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return crc32_gzip_refl(crc, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    /// The CRC-32 of a byte collection.
    public static func crc32(_ bytes: some Collection<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        if let result = bytes.withContiguousStorageIfAvailable({ crc32(UnsafeRawBufferPointer($0), continuing: crc) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { crc32($0, continuing: crc) }
    }

    /// The Adler-32 of zlib, continuing from `adler` (1 to start).
    public static func adler32(_ bytes: UnsafeRawBufferPointer, continuing adler: UInt32 = 1) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return adler }
        var value = UInt(adler)
        var offset = 0
        // zlib takes a 32-bit length; feed large inputs in pieces.
        while offset < bytes.count {
            let piece = min(bytes.count - offset, 1 << 30)
            value = CZlib.adler32(value, base.advanced(by: offset).assumingMemoryBound(to: UInt8.self), UInt32(piece))
            offset += piece
        }
        return UInt32(value)
    }
}
