import Synchronization

/// The daemon's one-line status for systemd's `STATUS=`: streams open, windows per second and window latency
/// over the interval since the previous line, alarms active, windows dropped and connections refused since
/// start, and the streams' heart rates (the one stream's rate, or the range over the streams that have one).
///
/// For example `2 streams, 4.0 windows/s, 1 alarm active, 0 windows dropped, 0 refused, latency p50 4.2 ms
/// p99 9.5 ms, HR 64–118 bpm (2 of 2 streams)`. Readable from any thread; each ``line()`` starts a new interval.
final class DaemonStatus: Sendable {
    private struct Interval {
        var start: ContinuousClock.Instant
        var counts: InferenceCounters.Counts
    }

    let queue: WindowQueue
    private let inference: InferenceCounters
    private let alerts: AlertCounters
    private let ingest: IngestCounters
    private let interval: Mutex<Interval>

    /// A status over these counters, its first interval starting now.
    init(queue: WindowQueue, inference: InferenceCounters, alerts: AlertCounters, ingest: IngestCounters) {
        self.queue = queue
        self.inference = inference
        self.alerts = alerts
        self.ingest = ingest
        interval = Mutex(Interval(start: .now, counts: inference.total))
    }

    /// The status line; starts a new interval.
    func line() -> String {
        let now = ContinuousClock.Instant.now
        let total = inference.total
        let (seconds, windows) = interval.withLock { interval in
            let seconds = interval.start.duration(to: now) / .seconds(1)
            var windows = total
            windows.classified &-= interval.counts.classified
            windows.faulty &-= interval.counts.faulty
            windows.latency = total.latency.subtracting(interval.counts.latency)
            interval = Interval(start: now, counts: total)
            return (seconds, windows)
        }
        let streams = queue.openStreamsPerShard.reduce(0, +)
        let rate = seconds > 0 ? Double(windows.classified + windows.faulty) / seconds : 0
        let active = alerts.activeAlarms
        var line = "\(Self.count(streams, "stream")), \((rate * 10).rounded() / 10) windows/s, "
        line += "\(Self.count(active, "alarm")) active, \(queue.statistics.skipped) windows dropped, "
        line += "\(ingest.refusedConnections) refused"
        if total.droppedInputs > 0 { line += ", \(total.droppedInputs) alarm inputs lost" }
        if ingest.failedAccepts > 0 { line += ", \(ingest.failedAccepts) accepts failed (descriptors exhausted)" }
        let delivery = alerts.delivery
        if delivery.journalQueued > 0 || delivery.journalDropped > 0 {
            line += ", \(delivery.journalQueued) alert events waiting for the journal"
            if delivery.journalDropped > 0 { line += " (\(delivery.journalDropped) dropped, on stderr)" }
        }
        if delivery.linesUndelivered > 0 { line += ", \(delivery.linesUndelivered) JSON alert lines undelivered" }
        if let p50 = windows.latency.percentile(0.5), let p99 = windows.latency.percentile(0.99) {
            line += ", latency p50 \(Self.milliseconds(p50)) p99 \(Self.milliseconds(p99))"
        }
        line += Self.heartRates(alerts.heartRatesByStream)
        return line
    }

    /// `, HR 72 bpm` for one stream, `, HR 64–118 bpm (2 of 3 streams)` for several, `, HR unknown` when no
    /// stream has a rate; nothing without streams.
    static func heartRates(_ rates: [String: Double?]) -> String {
        guard !rates.isEmpty else { return "" }
        let known = rates.values.compactMap { $0 }
        guard let low = known.min(), let high = known.max() else { return ", HR unknown" }
        let range = low == high ? "\(Int(low.rounded()))" : "\(Int(low.rounded()))–\(Int(high.rounded()))"
        return rates.count == 1 ? ", HR \(range) bpm" : ", HR \(range) bpm (\(known.count) of \(rates.count) streams)"
    }

    /// `n thing` or `n things`.
    static func count(_ n: Int, _ thing: String) -> String {
        "\(n) \(thing)\(n == 1 ? "" : "s")"
    }

    /// Seconds as milliseconds with two significant digits or whole milliseconds, e.g. `4.2 ms`, `120 ms`.
    static func milliseconds(_ seconds: Double) -> String {
        let ms = seconds * 1000
        return ms >= 10 ? "\(Int(ms.rounded())) ms" : "\((ms * 10).rounded() / 10) ms"
    }
}
