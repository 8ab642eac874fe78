import FPGADevice
import FPGAKernels

/// A deterministic stand-in for a classifier: an image's class is the sum of its bytes
/// modulo 10. It proves the FINN plumbing (every image reaches the network once, in
/// order, and its class comes back to the right place), not any neural network.
public struct ByteSumNetwork: FINNNetwork {
    public let inputBytesPerImage: Int

    public init(inputBytesPerImage: Int = 32 * 32 * 3) {
        self.inputBytesPerImage = inputBytesPerImage
    }

    public func classify(images: UnsafeRawBufferPointer, count: Int, into classes: UnsafeMutableRawBufferPointer) throws
    {
        for image in 0..<count {
            let pixels = images[(image * inputBytesPerImage)..<((image + 1) * inputBytesPerImage)]
            classes[image] = UInt8(pixels.reduce(0) { $0 + Int($1) } % 10)
        }
    }

    /// The classes the network gives `images`, computed here independently.
    public func expected(_ images: [UInt8]) -> [UInt8] {
        stride(from: 0, to: images.count, by: inputBytesPerImage).map { start in
            UInt8(images[start..<(start + inputBytesPerImage)].reduce(0) { $0 + Int($1) } % 10)
        }
    }
}

/// A network that always fails, to check that its error reaches the host.
public struct FailingNetwork: FINNNetwork {
    public var inputBytesPerImage: Int { 32 * 32 * 3 }
    public init() {}
    public func classify(images: UnsafeRawBufferPointer, count: Int, into classes: UnsafeMutableRawBufferPointer) throws
    {
        throw KernelFault("weights not loaded")
    }
}
