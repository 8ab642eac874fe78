/// How much a receiver accepts from its peer.
public struct WireLimits: Sendable, Hashable {
    /// The largest frame body accepted, in bytes. A header announcing more is rejected
    /// before anything is allocated for the body.
    public var maxBodyLength: Int

    /// 72 MiB: a 64 MiB chunk, its parameters and room to spare.
    public static let `default` = WireLimits(maxBodyLength: 75_497_472)

    /// Limits accepting bodies of up to `maxBodyLength` bytes (at most `UInt32.max`, the
    /// largest length a header can carry).
    public init(maxBodyLength: Int) {
        precondition(maxBodyLength >= 0 && maxBodyLength <= Int(UInt32.max), "maxBodyLength out of range")
        self.maxBodyLength = maxBodyLength
    }
}
