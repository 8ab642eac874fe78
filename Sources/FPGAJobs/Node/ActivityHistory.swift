/// What a device did in each of the last seconds: bytes in and out, inputs completed and
/// the fraction of the second it was busy, in one-second buckets on a node's timeline.
///
/// Kept from the node's own events (a run ending, a busy stretch ending), not by a sampler
/// polling it, so it costs nothing while the device is idle and reads the same on a test
/// clock as on a real one. Buckets older than ``length`` seconds are dropped.
public struct ActivityHistory: Sendable, Hashable {
    /// One second of a device's activity.
    public struct Sample: Sendable, Hashable, Codable {
        /// Bytes of the inputs whose runs completed in this second.
        public var inputBytes: UInt64
        /// Bytes of their outputs.
        public var outputBytes: UInt64
        /// Inputs whose runs completed in this second.
        public var completed: UInt32
        /// The fraction of the second with at least one input in the device's driver, 0...1.
        public var busy: Double

        public init(inputBytes: UInt64 = 0, outputBytes: UInt64 = 0, completed: UInt32 = 0, busy: Double = 0) {
            self.inputBytes = inputBytes
            self.outputBytes = outputBytes
            self.completed = completed
            self.busy = busy
        }

        /// A second with nothing done.
        public static let idle = Sample()
    }

    /// 300: five minutes of one-second buckets.
    public static let defaultLength = 300

    /// How many seconds the history keeps.
    public let length: Int
    /// The buckets, a ring indexed by second modulo ``length``.
    private var buckets: [Sample]
    /// The latest second a bucket was written for; buckets after it are idle.
    private var latestSecond: Int64 = 0

    /// An empty history of `length` seconds (at least 1).
    public init(length: Int = ActivityHistory.defaultLength) {
        self.length = max(1, length)
        self.buckets = Array(repeating: .idle, count: self.length)
    }

    /// Counts a run that completed at `time` with `inputBytes` in and `outputBytes` out.
    public mutating func recordCompletion(inputBytes: UInt64, outputBytes: UInt64, at time: Duration) {
        update(second: Self.second(of: time)) {
            $0.inputBytes &+= inputBytes
            $0.outputBytes &+= outputBytes
            $0.completed &+= 1
        }
    }

    /// Counts the device busy from `start` to `end`, split over the seconds it spans.
    public mutating func recordBusy(from start: Duration, to end: Duration) {
        guard end > start else { return }
        // The second the stretch's last instant is in: one ending on a second's start ends
        // in the second before.
        let last = Self.second(of: end - .nanoseconds(1))
        // Only the seconds still kept matter, however long the stretch.
        var second = max(Self.second(of: start), last - Int64(length) + 1)
        while second <= last {
            let bucketStart = Duration.seconds(second)
            let overlap = min(end, bucketStart + .seconds(1)) - max(start, bucketStart)
            let fraction = Self.seconds(overlap)
            if fraction > 0 { update(second: second) { $0.busy = min(1, $0.busy + fraction) } }
            second += 1
        }
    }

    /// The complete seconds before `time`, oldest first: `count` of them (at most
    /// ``length``), idle where nothing happened. The second `time` falls in is still going
    /// on and is left out.
    public func samples(before time: Duration, count: Int? = nil) -> [Sample] {
        let count = min(count ?? length, length)
        let end = Self.second(of: time)  // the first second not returned
        return ((end - Int64(count))..<end).map { second in
            guard second >= 0, second <= latestSecond, second > latestSecond - Int64(length) else { return .idle }
            return buckets[index(of: second)]
        }
    }

    private mutating func update(second: Int64, _ change: (inout Sample) -> Void) {
        guard second >= 0, second > latestSecond - Int64(length) else { return }
        if second > latestSecond {
            // Clear the buckets of the seconds skipped: they are idle, not what the ring held
            // `length` seconds earlier.
            var cleared = latestSecond + 1
            if second - cleared >= Int64(length) { cleared = second - Int64(length) + 1 }
            while cleared <= second {
                buckets[index(of: cleared)] = .idle
                cleared += 1
            }
            latestSecond = second
        }
        change(&buckets[index(of: second)])
    }

    private func index(of second: Int64) -> Int {
        Int(second % Int64(length))
    }

    private static func second(of time: Duration) -> Int64 {
        time.components.seconds
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension [ActivityHistory.Sample] {
    /// The mean of the samples' busy fractions (0 for no samples).
    public var meanBusy: Double {
        isEmpty ? 0 : reduce(0) { $0 + $1.busy } / Double(count)
    }

    /// Input bytes per second over the samples (0 for no samples).
    public var inputBytesPerSecond: Double {
        isEmpty ? 0 : Double(reduce(UInt64(0)) { $0 &+ $1.inputBytes }) / Double(count)
    }
}
