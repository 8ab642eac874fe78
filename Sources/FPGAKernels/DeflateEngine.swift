/// The one interface between the simulated gzip kernel and a deflate library.
///
/// An engine compresses one whole input into raw deflate blocks, none of them final,
/// ending on a byte boundary (a sync flush), which is what `xilGzipCompBlock` writes.
/// The host closes the stream with an empty final stored block.
protocol DeflateEngine: Sendable {
    /// A short name for logs and benchmarks.
    var name: String { get }
    /// Compresses `input` into `output`; returns the number of bytes written, or throws
    /// ``KernelFault`` if `output` is too small.
    func compressBlocks(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int
}

/// The deflate engines the project can use. ISA-L's igzip level 1 is the default: on our
/// machines it compresses 5.7x faster than zlib level 1 to within 0.2% of its size (see
/// the DocsSite's benchmark article); zlib is the reference.
enum DeflateEngineKind: String, Sendable, CaseIterable {
    case isal
    case zlib

    func makeEngine() -> any DeflateEngine {
        switch self {
        case .isal: ISALDeflateEngine()
        case .zlib: ZlibDeflateEngine()
        }
    }

    static let `default`: DeflateEngineKind = .isal
}

/// An upper bound on what an engine writes for `count` input bytes: stored blocks cost
/// 5 bytes per 64 KiB, and the engines fall back to them on incompressible data.
func deflateBound(_ count: Int) -> Int {
    count + count / 64 + 4096
}
