import FPGAJobs

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// A cluster's dashboard: one self-contained HTML page, made from device statuses, that a
/// browser shows and reloads every 2 seconds without any script or external asset.
///
/// The page has a header with the title and the cluster's totals (devices, busy devices,
/// input bytes per second, runs completed and failed) over a sparkline of the cluster's
/// throughput, then one card per device: where it is, what it runs, its counters, a
/// utilisation bar and a sparkline of its throughput over the last five minutes. A device
/// with a problem (unhealthy, or its worker unreachable) is marked and shows the problem.
///
/// Every part a test or a script may look for carries a stable hook: the header is
/// `<header class="cluster">` with `data-total="NAME"` on each total, each device a
/// `<section class="device" data-device="HOST/DEVICE" data-state="ok|problem">` with
/// `data-field="NAME"` on each field, `.utilisation[data-busy]` and
/// `figure.sparkline[data-peak]`. All text is escaped.
public enum Dashboard {
    /// Seconds of history a sparkline shows: five minutes.
    public static let historySeconds = ActivityHistory.defaultLength

    /// Seconds between the browser's reloads of the page.
    public static let refreshSeconds = 2

    /// The page for `statuses` (in the order given) under `title`, stamped with `time`.
    public static func html(title: String, statuses: [DeviceStatus], time: Date) -> String {
        let title = HTMLText.escape(title)
        let busy = statuses.filter(isBusy).count
        let rate = statuses.reduce(0) { $0 + $1.recentInputBytesPerSecond }
        let completed = statuses.reduce(UInt64(0)) { $0 &+ $1.completed }
        let failed = statuses.reduce(UInt64(0)) { $0 &+ $1.failed }
        let problems = statuses.filter { $0.problem != nil }.count
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title>
            <style>\(style)</style>
            </head>
            <body>
            <header class="cluster">
            <h1>\(title)</h1>
            <p class="updated">updated <time datetime="\(isoTime(time))">\(displayTime(time))</time>, \
            every \(refreshSeconds) s</p>
            <ul class="totals">
            \(total("devices", "devices", "\(statuses.count)"))
            \(total("busy", "busy", "\(busy)"))
            \(total("throughput", "input", RateText.bytesPerSecond(rate)))
            \(total("completed", "completed", "\(completed)"))
            \(total("failed", "failed", "\(failed)", alarm: failed > 0))
            \(total("problems", "problems", "\(problems)", alarm: problems > 0))
            </ul>
            \(DashboardGraphics.sparkline(clusterThroughput(statuses), label: "cluster input bytes/s"))
            </header>
            <main class="devices">

            """
        if statuses.isEmpty { page += "<p class=\"empty\">No devices.</p>\n" }
        for status in statuses { page += card(status) + "\n" }
        page += "</main>\n</body>\n</html>\n"
        return page
    }

    /// The cluster's input bytes in each of the last ``historySeconds`` seconds, oldest
    /// first: the sum over the devices, their histories aligned on their latest second.
    public static func clusterThroughput(_ statuses: [DeviceStatus]) -> [UInt64] {
        var sums = [UInt64](repeating: 0, count: historySeconds)
        for status in statuses {
            for (offset, sample) in status.history.suffix(historySeconds).reversed().enumerated() {
                sums[historySeconds - 1 - offset] &+= sample.inputBytes
            }
        }
        return sums
    }

    /// Whether a device counts as busy: running an input now or busy in the last seconds.
    static func isBusy(_ status: DeviceStatus) -> Bool {
        status.running > 0 || status.recentBusy > 0
    }

    /// One device's card.
    static func card(_ status: DeviceStatus) -> String {
        let id = HTMLText.escape("\(status.host)/\(status.device)")
        let state = status.problem == nil ? "ok" : "problem"
        let program = status.program.map(HTMLText.escape) ?? "<span class=\"none\">none</span>"
        let history = status.history.suffix(historySeconds).map(\.inputBytes)
        let padded = [UInt64](repeating: 0, count: max(0, historySeconds - history.count)) + history
        var card = """
            <section class="device\(status.problem == nil ? "" : " unhealthy")" data-device="\(id)" \
            data-host="\(HTMLText.escape(status.host))" data-name="\(HTMLText.escape(status.device))" \
            data-state="\(state)" data-busy="\(isBusy(status) ? "yes" : "no")">
            <h2><span class="host">\(HTMLText.escape(status.host))</span>/<span class="name">\
            \(HTMLText.escape(status.device))</span></h2>

            """
        if let problem = status.problem {
            card += "<p class=\"problem\" role=\"alert\">\(HTMLText.escape(problem))</p>\n"
        }
        card += """
            <dl class="fields">
            \(field("kind", HTMLText.escape(status.kind)))
            \(field("program", program))
            \(field("computeUnits", "\(status.computeUnits)", term: "CUs"))
            \(field("running", "\(status.running) / \(status.queued)", term: "running / queued"))
            \(field("completed", "\(status.completed) / \(status.failed)", term: "completed / failed", alarm: status.failed > 0))
            \(field("throughput", RateText.bytesPerSecond(status.recentInputBytesPerSecond), term: "input"))
            </dl>
            \(DashboardGraphics.utilisationBar(status.recentBusy))
            \(DashboardGraphics.sparkline(padded, label: "input bytes/s"))
            </section>
            """
        return card
    }

    private static func total(_ key: String, _ term: String, _ value: String, alarm: Bool = false) -> String {
        "<li data-total=\"\(key)\"\(alarm ? " class=\"alarm\"" : "")><span class=\"value\">\(value)</span> \(term)</li>"
    }

    private static func field(_ key: String, _ value: String, term: String? = nil, alarm: Bool = false) -> String {
        "<div data-field=\"\(key)\"\(alarm ? " class=\"alarm\"" : "")><dt>\(term ?? key)</dt><dd>\(value)</dd></div>"
    }

    /// `2026-12-03T18:30:02Z`.
    static func isoTime(_ time: Date) -> String {
        let (date, clock) = utcParts(time)
        return "\(date)T\(clock)Z"
    }

    /// `2026-12-03 18:30:02 UTC`.
    static func displayTime(_ time: Date) -> String {
        let (date, clock) = utcParts(time)
        return "\(date) \(clock) UTC"
    }

    private static func utcParts(_ time: Date) -> (date: String, clock: String) {
        var seconds = time_t(time.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return (
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))",
            "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        )
    }

    /// The page's style sheet: cards on a grid that fits a laptop screen.
    static let style = """
        :root { color-scheme: light; font-family: system-ui, sans-serif; color: #1d2630; background: #f3f5f8; }
        body { margin: 0; padding: 1rem 1.5rem; }
        h1 { margin: 0 0 .2rem; font-size: 1.5rem; }
        h2 { margin: 0 0 .4rem; font-size: 1.05rem; font-family: ui-monospace, monospace; }
        .updated { margin: 0 0 .6rem; color: #5b6773; font-size: .85rem; }
        header.cluster { background: #fff; border: 1px solid #d5dbe3; border-radius: 8px; padding: .8rem 1rem; \
        margin-bottom: 1rem; }
        .totals { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; list-style: none; margin: 0 0 .4rem; padding: 0; }
        .totals .value { font-size: 1.4rem; font-weight: 600; }
        .alarm, .alarm .value { color: #c62828; }
        main.devices { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 1rem; }
        section.device { background: #fff; border: 1px solid #d5dbe3; border-left: 6px solid #2e7d32; \
        border-radius: 8px; padding: .7rem .9rem; }
        section.device.unhealthy { border-color: #c62828; background: #fff5f5; }
        .problem { color: #b71c1c; font-weight: 600; margin: 0 0 .4rem; overflow-wrap: anywhere; }
        .fields { display: grid; grid-template-columns: repeat(3, 1fr); gap: .3rem .8rem; margin: 0 0 .5rem; }
        .fields dt { font-size: .75rem; color: #5b6773; }
        .fields dd { margin: 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
        .none { color: #8a949e; }
        .utilisation { display: flex; align-items: center; gap: .5rem; margin-bottom: .4rem; }
        .utilisation svg { flex: 1; height: 12px; }
        .utilisation .track { fill: #e3e8ee; }
        .utilisation .fill.low { fill: #43a047; }
        .utilisation .fill.medium { fill: #f9a825; }
        .utilisation .fill.high { fill: #e65100; }
        .utilisation .percent { width: 3.2rem; text-align: right; font-family: ui-monospace, monospace; }
        figure.sparkline { margin: 0; }
        figure.sparkline svg { width: 100%; height: 48px; background: #f8fafc; }
        figure.sparkline .baseline { stroke: #cfd6de; stroke-width: 1; }
        figure.sparkline .throughput { fill: none; stroke: #1565c0; stroke-width: 1.5; \
        vector-effect: non-scaling-stroke; }
        figure.sparkline .area { fill: #1565c0; fill-opacity: .12; stroke: none; }
        figure.sparkline line.peak { stroke: #0d47a1; stroke-width: 2; stroke-dasharray: 2 2; \
        vector-effect: non-scaling-stroke; }
        figcaption { font-size: .75rem; color: #5b6773; }
        figcaption .peak { color: #1d2630; font-weight: 600; }
        """
}
