import FPGAJobs
import Foundation
import Testing

@testable import FPGAMetricsServer

/// The dashboard page as a pure function of statuses and a time: what it shows for each
/// device and for the cluster, and that no name or problem can inject markup.
@Suite("the dashboard page")
struct DashboardTests {
    static let time = Date(timeIntervalSince1970: 1_796_322_602)  // 2026-12-03 18:30:02 UTC

    /// `seconds` idle seconds, then `recent` seconds each with `bytes` in and busy `busy`.
    static func history(idle seconds: Int, recent: Int, bytes: UInt64, busy: Double) -> [ActivityHistory.Sample] {
        Array(repeating: .idle, count: seconds)
            + Array(
                repeating: ActivityHistory.Sample(inputBytes: bytes, outputBytes: bytes / 4, completed: 1, busy: busy),
                count: recent)
    }

    static let statuses = [
        DeviceStatus(
            host: "worker-a:7070", device: "sim0", kind: "simulated", program: "gzip", computeUnits: 2, running: 2,
            queued: 3, completed: 40, failed: 0, inputBytes: 40_000_000, outputBytes: 10_000_000, busySeconds: 9,
            history: history(idle: 295, recent: 5, bytes: 2_000_000, busy: 0.5)),
        DeviceStatus(
            host: "worker-a:7070", device: "sim1", kind: "simulated", completed: 7, failed: 2,
            problem: "sim1: run failed: kernel stalled", history: history(idle: 300, recent: 0, bytes: 0, busy: 0)),
    ]

    /// The `section` element that holds the first occurrence of `marker`.
    static func section(_ marker: String, in page: String) -> Substring? {
        guard let found = page.range(of: marker)?.lowerBound,
            let start = page[..<found].range(of: "<section", options: .backwards)?.lowerBound,
            let end = page[found...].range(of: "</section>")?.upperBound
        else { return nil }
        return page[start..<end]
    }

    @Test func everyDeviceHasACardWithItsFields() throws {
        let page = Dashboard.html(title: "gzip on 2 workers", statuses: Self.statuses, time: Self.time)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<meta http-equiv=\"refresh\" content=\"2\">"))
        #expect(page.contains("<title>gzip on 2 workers</title>"))
        #expect(page.contains("<time datetime=\"2026-12-03T18:30:02Z\">2026-12-03 18:30:02 UTC</time>"))
        // Self-contained: no script, no link to anything.
        #expect(!page.contains("<script"))
        #expect(!page.contains("src="))
        #expect(!page.contains("href="))

        let first = try #require(Self.section("data-device=\"worker-a:7070/sim0\"", in: page))
        #expect(first.contains("data-state=\"ok\""))
        #expect(first.contains("<div data-field=\"kind\"><dt>kind</dt><dd>simulated</dd></div>"))
        #expect(first.contains("<div data-field=\"program\"><dt>program</dt><dd>gzip</dd></div>"))
        #expect(first.contains("<div data-field=\"computeUnits\"><dt>CUs</dt><dd>2</dd></div>"))
        #expect(first.contains("<dt>running / queued</dt><dd>2 / 3</dd>"))
        #expect(first.contains("<dt>completed / failed</dt><dd>40 / 0</dd>"))
        #expect(first.contains("<div data-field=\"throughput\"><dt>input</dt><dd>2.0 MB/s</dd></div>"))
        #expect(!first.contains("class=\"problem\""))

        let second = try #require(Self.section("data-device=\"worker-a:7070/sim1\"", in: page))
        #expect(second.contains("class=\"device unhealthy\""))
        #expect(second.contains("data-state=\"problem\""))
        #expect(second.contains("<p class=\"problem\" role=\"alert\">sim1: run failed: kernel stalled</p>"))
        #expect(second.contains("<dd><span class=\"none\">none</span></dd>"))
        #expect(
            second.contains("<div data-field=\"completed\" class=\"alarm\"><dt>completed / failed</dt><dd>7 / 2</dd>"))
    }

    @Test func theHeaderTotalsTheCluster() {
        let page = Dashboard.html(title: "t", statuses: Self.statuses, time: Self.time)
        #expect(page.contains("<li data-total=\"devices\"><span class=\"value\">2</span> devices</li>"))
        #expect(page.contains("<li data-total=\"busy\"><span class=\"value\">1</span> busy</li>"))
        #expect(page.contains("<li data-total=\"throughput\"><span class=\"value\">2.0 MB/s</span> input</li>"))
        #expect(page.contains("<li data-total=\"completed\"><span class=\"value\">47</span> completed</li>"))
        #expect(page.contains("<li data-total=\"failed\" class=\"alarm\"><span class=\"value\">2</span> failed</li>"))
        #expect(
            page.contains("<li data-total=\"problems\" class=\"alarm\"><span class=\"value\">1</span> problems</li>"))
    }

    @Test func utilisationBarShowsTheRecentBusyFraction() throws {
        let page = Dashboard.html(title: "t", statuses: Self.statuses, time: Self.time)
        let first = try #require(Self.section("data-device=\"worker-a:7070/sim0\"", in: page))
        #expect(first.contains("<div class=\"utilisation\" data-busy=\"0.500\">"))
        #expect(first.contains("<rect class=\"fill medium\" x=\"0\" y=\"0\" width=\"50.0\""))
        #expect(first.contains("<span class=\"percent\">50%</span>"))
        let second = try #require(Self.section("data-device=\"worker-a:7070/sim1\"", in: page))
        #expect(second.contains("<div class=\"utilisation\" data-busy=\"0.000\">"))
        #expect(second.contains("<span class=\"percent\">0%</span>"))
    }

    @Test func sparklinesPlotFiveMinutesAndLabelTheirPeak() throws {
        let page = Dashboard.html(title: "t", statuses: Self.statuses, time: Self.time)
        let first = try #require(Self.section("data-device=\"worker-a:7070/sim0\"", in: page))
        #expect(first.contains("<figure class=\"sparkline\" data-peak=\"2000000\" data-seconds=\"300\">"))
        #expect(first.contains("<span class=\"peak\">peak 2.0 MB/s</span>"))
        #expect(first.contains("over the last 5 min"))
        let points = try #require(first.firstMatch(of: /<polyline class="throughput" points="([^"]*)"/)).1.split(
            separator: " ")
        #expect(points.count == 300)
        // Idle seconds on the baseline, the busy ones at the top, the last at the right edge.
        #expect(points.first == "0.0,46.0")
        #expect(points.last == "300.0,2.0")
        #expect(first.contains("<line class=\"peak\" x1=\"300.0\" y1=\"2.0\" x2=\"300.0\" y2=\"46\"/>"))
        #expect(first.contains("<polygon class=\"area\" points=\"0.0,46 0.0,46.0 "))

        // A device with an idle history: a flat line and no peak marker.
        let second = try #require(Self.section("data-device=\"worker-a:7070/sim1\"", in: page))
        #expect(second.contains("data-peak=\"0\""))
        #expect(!second.contains("<line class=\"peak\""))
    }

    @Test func theClusterSparklineSumsTheDevicesOnTheirLatestSecond() {
        let short = DeviceStatus(
            host: "h", device: "a", kind: "simulated",
            history: [.init(inputBytes: 5), .init(inputBytes: 7)])
        let long = DeviceStatus(
            host: "h", device: "b", kind: "simulated",
            history: [.init(inputBytes: 1), .init(inputBytes: 2), .init(inputBytes: 3)])
        let sums = Dashboard.clusterThroughput([short, long])
        #expect(sums.count == Dashboard.historySeconds)
        #expect(Array(sums.suffix(3)) == [1, 7, 10])
        #expect(sums.dropLast(3).allSatisfy { $0 == 0 })

        let page = Dashboard.html(title: "t", statuses: [short, long], time: Self.time)
        let header = page[..<page.range(of: "</header>")!.upperBound]
        #expect(header.contains("<figure class=\"sparkline\" data-peak=\"10\" data-seconds=\"300\">"))
        #expect(header.contains("cluster input bytes/s over the last 5 min"))
    }

    @Test func hostileTextIsEscapedEverywhere() throws {
        let hostile = DeviceStatus(
            host: "<script>alert(\"x\")</script>", device: "a&b'\"c", kind: "<i>kind</i>",
            program: "<img src=x onerror=alert(1)>", problem: "<b>down</b> & \"out\" 'now'")
        let page = Dashboard.html(title: "</title><script>t</script>", statuses: [hostile], time: Self.time)
        for markup in ["<script", "<img", "<b>", "<i>", "</title><"] {
            #expect(!page.contains(markup), "\(markup) reached the page unescaped")
        }
        #expect(page.contains("<title>&lt;/title&gt;&lt;script&gt;t&lt;/script&gt;</title>"))
        #expect(
            page.contains(
                "data-device=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;/a&amp;b&#39;&quot;c\""))
        #expect(page.contains("<span class=\"name\">a&amp;b&#39;&quot;c</span>"))
        #expect(page.contains("<dd>&lt;i&gt;kind&lt;/i&gt;</dd>"))
        #expect(page.contains("<dd>&lt;img src=x onerror=alert(1)&gt;</dd>"))
        #expect(
            page.contains(
                "<p class=\"problem\" role=\"alert\">&lt;b&gt;down&lt;/b&gt; &amp; &quot;out&quot; &#39;now&#39;</p>"))
    }

    @Test func anEmptyClusterSaysSo() {
        let page = Dashboard.html(title: "t", statuses: [], time: Self.time)
        #expect(page.contains("<p class=\"empty\">No devices.</p>"))
        #expect(page.contains("<span class=\"value\">0</span> devices"))
        #expect(!page.contains("<section"))
    }

    @Test(arguments: [
        (0.0, "0 B/s"), (950.0, "950 B/s"), (999.96, "1.0 kB/s"), (1500.0, "1.5 kB/s"), (12_345_678.0, "12.3 MB/s"),
        (4e9, "4.0 GB/s"), (-3.0, "0 B/s"),
    ])
    func ratesUseDecimalUnits(bytes: Double, text: String) {
        #expect(RateText.bytesPerSecond(bytes) == text)
    }

    @Test func percentagesAndTimesAreFixed() {
        #expect(RateText.percent(0.424) == "42%")
        #expect(RateText.percent(1.7) == "100%")
        #expect(RateText.percent(-1) == "0%")
        #expect(RateText.fixed(2.05, digits: 3) == "2.050")
        #expect(Dashboard.displayTime(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00 UTC")
        #expect(Dashboard.isoTime(Date(timeIntervalSince1970: 86_399.9)) == "1970-01-01T23:59:59Z")
    }
}
