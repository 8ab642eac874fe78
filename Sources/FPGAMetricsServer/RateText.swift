/// Numbers as the dashboard shows them: decimal byte units and percentages, with a fixed
/// number of digits whatever the locale.
enum RateText {
    /// `bytes` per second in decimal units: `0 B/s`, `950 B/s`, `12.3 MB/s`.
    static func bytesPerSecond(_ bytes: Double) -> String {
        bytesText(bytes) + "/s"
    }

    /// `bytes` in decimal units: `0 B`, `950 B`, `1.5 kB`, `12.3 MB`, `4.0 GB`.
    static func bytesText(_ bytes: Double) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = max(0, bytes)
        var unit = 0
        while value >= 999.95 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(Int(value.rounded())) B" : "\(fixed(value, digits: 1)) \(units[unit])"
    }

    /// A fraction 0...1 as a whole percentage: `0%`, `42%`, `100%`.
    static func percent(_ fraction: Double) -> String {
        "\(Int((min(1, max(0, fraction)) * 100).rounded()))%"
    }

    /// `value` with `digits` digits after the point (rounded half away from zero).
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let sign = value < 0 && scaled != 0 ? "-" : ""
        let whole = scaled / Int64(scale)
        guard digits > 0 else { return "\(sign)\(whole)" }
        let fraction = String(scaled % Int64(scale))
        return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
