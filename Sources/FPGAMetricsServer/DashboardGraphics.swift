/// The dashboard's inline SVG: a utilisation bar and a throughput sparkline, with no script
/// and no external asset, so a page saved to disk or printed shows the same.
enum DashboardGraphics {
    /// Width and height of a sparkline's drawing, in SVG user units.
    static let sparklineWidth = 300
    static let sparklineHeight = 48

    /// A bar filled to `fraction` (0...1) with the percentage beside it, in an element of
    /// class `utilisation` whose `data-busy` holds the fraction (3 digits).
    static func utilisationBar(_ fraction: Double) -> String {
        let clamped = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let percent = RateText.percent(clamped)
        let level = clamped >= 0.9 ? "high" : clamped >= 0.5 ? "medium" : "low"
        return """
            <div class="utilisation" data-busy="\(RateText.fixed(clamped, digits: 3))">\
            <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" \
            aria-label="busy \(percent)"><rect class="track" x="0" y="0" width="100" height="10"/>\
            <rect class="fill \(level)" x="0" y="0" width="\(RateText.fixed(clamped * 100, digits: 1))" \
            height="10"/></svg><span class="percent">\(percent)</span></div>
            """
    }

    /// A line of `bytesPerSecond` (one value a second, oldest first) scaled to its peak,
    /// the peak marked and labelled, in a `figure` of class `sparkline` whose `data-peak`
    /// holds the peak in bytes per second and `data-seconds` the number of values.
    static func sparkline(_ bytesPerSecond: [UInt64], label: String) -> String {
        let width = Double(sparklineWidth)
        let height = Double(sparklineHeight)
        let peak = bytesPerSecond.max() ?? 0
        let peakIndex = bytesPerSecond.lastIndex(of: peak) ?? 0
        let step = bytesPerSecond.count > 1 ? width / Double(bytesPerSecond.count - 1) : 0
        func point(_ index: Int, _ value: UInt64) -> (x: String, y: String) {
            let scaled = peak == 0 ? 0 : Double(value) / Double(peak)
            return (
                RateText.fixed(Double(index) * step, digits: 1),
                RateText.fixed(height - 2 - scaled * (height - 4), digits: 1)
            )
        }
        let points = bytesPerSecond.enumerated().map { index, value in
            let (x, y) = point(index, value)
            return "\(x),\(y)"
        }
        var svg = """
            <svg viewBox="0 0 \(sparklineWidth) \(sparklineHeight)" preserveAspectRatio="none" role="img" \
            aria-label="\(HTMLText.escape(label))"><line class="baseline" x1="0" y1="\(sparklineHeight - 2)" \
            x2="\(sparklineWidth)" y2="\(sparklineHeight - 2)"/>
            """
        if let first = points.first, let last = points.last {
            // The area under the line, then the line.
            let bottom = sparklineHeight - 2
            let area =
                "\(first.split(separator: ",")[0]),\(bottom) " + points.joined(separator: " ")
                + " \(last.split(separator: ",")[0]),\(bottom)"
            svg += "<polygon class=\"area\" points=\"\(area)\"/>"
            svg += "<polyline class=\"throughput\" points=\"\(points.joined(separator: " "))\"/>"
        }
        if peak > 0 {
            // A tick rather than a dot: the drawing stretches to its box, and a dot would too.
            let (x, y) = point(peakIndex, peak)
            svg += "<line class=\"peak\" x1=\"\(x)\" y1=\"\(y)\" x2=\"\(x)\" y2=\"\(sparklineHeight - 2)\"/>"
        }
        svg += "</svg>"
        let seconds = bytesPerSecond.count
        let span = seconds >= 60 && seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds) s"
        return """
            <figure class="sparkline" data-peak="\(peak)" data-seconds="\(seconds)">\(svg)\
            <figcaption>\(HTMLText.escape(label)) over the last \(span): \
            <span class="peak">peak \(RateText.bytesPerSecond(Double(peak)))</span></figcaption></figure>
            """
    }
}
