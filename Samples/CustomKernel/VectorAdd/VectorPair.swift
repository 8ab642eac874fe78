/// One input of ``VectorAddJob``: the two vectors to add, of equal length.
public struct VectorPair: Sendable, Hashable {
    /// The first addend, `krnl_vadd`'s `in1`.
    public var lhs: [UInt32]
    /// The second addend, `krnl_vadd`'s `in2`.
    public var rhs: [UInt32]

    /// A pair of addends; the job checks their lengths when it runs (or encodes) them.
    public init(lhs: [UInt32], rhs: [UInt32]) {
        self.lhs = lhs
        self.rhs = rhs
    }
}
