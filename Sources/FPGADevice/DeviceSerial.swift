import Synchronization

/// Hands out numbers unique among the devices of a process, so that a handle made by
/// one device is recognised as foreign by every other.
public enum DeviceSerial {
    private static let counter = Atomic<UInt64>(0)

    /// The next serial number (1, 2, ...).
    public static func next() -> UInt64 {
        counter.add(1, ordering: .relaxed).newValue
    }
}
