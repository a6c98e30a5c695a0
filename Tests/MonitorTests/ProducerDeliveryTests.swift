import Producers
import ServiceLifecycleTestKit
import Stream
import TestSupport
import Testing

@testable import Monitor

/// The producers (`replay`, `simulate`) delivering to a real ingest service, which accepts or refuses.
@Suite(.timeLimit(.minutes(2))) struct ProducerDeliveryTests {
    static func simulator(
        streamID: String,
        rhythm: ECGSimulator.Rhythm,
        rateHz: Int,
        format: SampleFormat
    ) throws -> SimulatorSource {
        SimulatorSource(
            simulator: ECGSimulator(
                rhythm: rhythm, heartRateBPM: nil, sampleRateHz: rateHz, noiseMillivolts: 0.01, seed: 1),
            header: try StreamHeader(
                streamID: streamID, sampleRateHz: rateHz, leads: StandardLead.allCases, format: format)
        )
    }

    @Test func replayAndSimulateDeliverTheirStreamsToTheDaemon() async throws {
        let harness = try await IngestHarness.start(shards: 2)
        let high = try DaemonTestSupport.samplePath("ECGClassification_PTBXL/00008_hr")
        let ptb = try DaemonTestSupport.samplePath("wfdb-python/s0010_re")
        let records = try RecordSource.streams(
            recordPaths: [high + ".hea", ptb], streamID: nil, parallel: 2, loops: false)
        let simulated = try Self.simulator(streamID: "sim", rhythm: .afib, rateHz: 250, format: .csv)
        try await testGracefulShutdownRunning(harness) {
            try await StreamProducer.deliver(records, pace: .unlimited, socketPath: harness.socketPath)
            try await StreamProducer.deliver(
                [simulated],
                pace: .unlimited,
                socketPath: harness.socketPath,
                maxSeconds: 5
            )
            await harness.recorder.wait { $0.filter(\.isEnded).count == 5 }
        }
        await harness.finish()
        let ended = Set(harness.recorder.events.filter(\.isEnded).compactMap(\.streamID))
        #expect(ended == ["00008_hr-1", "00008_hr-2", "s0010_re-3", "s0010_re-4", "sim"])
        let opened = harness.recorder.events.filter(\.isOpened)
        #expect(opened.first { $0.streamID == "s0010_re-3" }?.metadata["ecg.rate_hz"] == "1000")
        #expect(opened.first { $0.streamID == "sim" }?.metadata["ecg.format"] == "csv")
        // 38.4 s at 1000 Hz, delayed 0.2 s by the resampler: 3820 samples at 100 Hz, 72 windows of 250 every 50.
        let ended4 = harness.recorder.events.first { $0.isEnded && $0.streamID == "s0010_re-4" }
        #expect(ended4?.metadata["ecg.windows"] == "72")
    }

    @Test func simulateReportsTheDaemonsRefusal() async throws {
        let harness = try await IngestHarness.start(shards: 1) { $0.maxStreams = 1 }
        let holder = try TestStreams.simulated(streamID: "holder", seconds: 0.2)
        let simulated = try Self.simulator(streamID: "simulated", rhythm: .sinus, rateHz: 500, format: .float32)
        try await testGracefulShutdownRunning(harness) {
            _ = try await harness.send(holder) {
                await harness.recorder.wait(for: "holder") { $0.isOpened }
                await #expect {
                    try await StreamProducer.deliver(
                        [simulated],
                        pace: .unlimited,
                        socketPath: harness.socketPath,
                        maxSeconds: 1
                    )
                } throws: { error in
                    "\(error)".contains("limit of 1 open streams")
                }
            }
        }
        await harness.finish()
    }
}

/// Runs the harness's service around `body`, then shuts it down gracefully.
func testGracefulShutdownRunning(_ harness: IngestHarness, _ body: () async throws -> Void) async throws {
    try await testGracefulShutdown { trigger in
        async let running: Void = harness.service.run()
        do {
            try await body()
        } catch {
            trigger.triggerGracefulShutdown()
            try await running
            throw error
        }
        trigger.triggerGracefulShutdown()
        try await running
    }
}
