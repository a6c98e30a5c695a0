import Testing

@testable import Monitor

@Suite struct DaemonStatusTests {
    @Test func lineCountsStreamsAlarmsDropsAndTheIntervalsWindows() throws {
        let queue = try WindowQueue(capacity: 4, windowValueCount: 10, shardCount: 1)
        let inference = InferenceCounters(workerCount: 2)
        let ingest = IngestCounters()
        let status = DaemonStatus(queue: queue, inference: inference, alerts: AlertCounters(), ingest: ingest)
        let publisher = try queue.open(streamID: "bed-1")
        let factory = try WindowFactory(streamID: "bed-1")
        for value in [1, 2] as [Float] { try factory.publish(value, to: publisher) }
        inference.record(worker: 0, classified: true, latencySeconds: 0.004)
        inference.record(worker: 1, classified: false, latencySeconds: 0.004)
        ingest.recordRefusal()
        let line = status.line()
        #expect(line.hasPrefix("1 stream, "), "\(line)")
        #expect(line.contains(" windows/s, 0 alarms active, 1 windows dropped, 1 refused, latency p50 4."), "\(line)")
        // A new interval: no windows since, so no latency.
        #expect(status.line().hasSuffix("1 refused"))
        publisher.close()
        #expect(status.line().hasPrefix("0 streams, 0.0 windows/s"))
    }

    @Test(arguments: [(0.0042, "4.2 ms"), (0.0125, "13 ms"), (0.120, "120 ms")])
    func millisecondsKeepTwoDigitsOrWholeUnits(seconds: Double, text: String) {
        #expect(DaemonStatus.milliseconds(seconds) == text)
    }
}
