/// A neural network that classifies images the way a FINN-built accelerator does, for
/// the simulated device's FINN dataflow (``FINNDataflow``).
///
/// Images arrive as the accelerator's input DMA reads them: `count` images of
/// ``inputBytesPerImage`` bytes each, back to back (uint8, NHWC for CNV-W1A1: 32 x 32 x 3).
/// The network writes one uint8 class index per image.
///
/// `classify` runs on a compute unit's own thread and may take its time; it must be
/// deterministic (the same images give the same classes) and thread-safe, since each
/// simulated device has its own dataflow but may share the network.
public protocol FINNNetwork: Sendable {
    /// The bytes of one input image.
    var inputBytesPerImage: Int { get }
    /// Classifies `count` images from `images` (exactly `count * inputBytesPerImage`
    /// bytes) into `classes` (exactly `count` bytes). A thrown error fails the run with
    /// its description as the message.
    func classify(images: UnsafeRawBufferPointer, count: Int, into classes: UnsafeMutableRawBufferPointer) throws
}
