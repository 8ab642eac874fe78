/// Why the CNV engine could not run.
public enum CNVEngineError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The CPU cannot run the kernel variant asked for.
    case kernelUnsupported(String)
    /// An image array whose length is not a multiple of 3072 bytes.
    case partialImage(Int)
    /// A negative image count.
    case negativeCount(Int)
    /// Fewer input bytes than the image count needs.
    case inputTooShort(Int, images: Int)
    /// An output buffer with fewer elements than the image count needs.
    case outputTooShort(Int, needed: Int)

    public var description: String {
        switch self {
        case .kernelUnsupported(let kernel): "this CPU cannot run the \(kernel) CNV kernel"
        case .partialImage(let bytes): "\(bytes) bytes of images is not a multiple of 3072 (32 x 32 x 3)"
        case .negativeCount(let count): "image count \(count) is negative"
        case .inputTooShort(let bytes, let images): "\(bytes) input bytes cannot hold \(images) images of 3072 bytes"
        case .outputTooShort(let count, let needed): "output has room for \(count) values; \(needed) needed"
        }
    }
}
