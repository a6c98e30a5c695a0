import ArgumentParser
import Foundation
import ServiceLifecycleTestKit
import Stream
import Testing

@testable import Daemon

@Suite(.timeLimit(.minutes(2))) struct ProducerCommandTests {
    @Test func subcommandsAreRegistered() {
        let names = EcgMonitor.configuration.subcommands.map { $0.configuration.commandName }
        #expect(names.contains("replay") && names.contains("simulate"))
    }

    @Test(arguments: [("1", Pace.realTime(factor: 1)), ("2.5", .realTime(factor: 2.5)), ("max", .unlimited)])
    func paceParses(argument: String, pace: Pace) {
        #expect(Pace(argument: argument) == pace)
    }

    @Test(arguments: ["0", "-1", "fast", "nan", "inf"])
    func paceRefusesOtherValues(_ argument: String) {
        #expect(Pace(argument: argument) == nil)
    }

    @Test(arguments: [
        ["--rate", "50"], ["--hr", "300"], ["--seconds", "0"], ["--format", "i24"], ["--rhythm", "vfib"],
        ["--noise", "-1"],
    ])
    func simulateRefusesBadOptions(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try SimulateCommand.parse(arguments) }
    }

    @Test func replayToStandardOutputTakesOneStream() {
        #expect(throws: (any Error).self) { try ReplayCommand.parse(["a", "b"]) }
        #expect(throws: (any Error).self) { try ReplayCommand.parse(["a", "--parallel", "2"]) }
        #expect(throws: Never.self) {
            try ReplayCommand.parse(["a", "b", "--socket", "ingest.sock", "--parallel", "3"])
        }
    }

    @Test func replayWithSecondsSendsThatMuchSignalThenEnds() async throws {
        let path = try DaemonTestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00057_lr")
        #expect(throws: (any Error).self) { try ReplayCommand.parse([path, "--seconds", "0"]) }
        let replay = try DaemonProcess(["replay", path, "--loop", "--seconds", "25", "--speed", "max"])
        #expect(try await replay.waitForExit() == 0)
        let bytes = replay.output.bytes
        let decoder = try FrameDecoder()
        var offset = 0
        var instants = 0
        while offset < bytes.count {
            offset += bytes[offset...].withUnsafeBytes { decoder.append($0) }
            while let item = try decoder.next() {
                if case .frame(let frame) = item { instants += frame.sampleCount }
            }
        }
        try decoder.finish()
        // 25 s at 100 Hz: two and a half times the 10 s record.
        #expect(instants == 2500)
    }

    @Test func recordSourceLoopsWithAContinuousSampleIndex() throws {
        let record = try WFDBRecord.read(
            path: try DaemonTestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00057_lr")
        )
        var source = try RecordSource(record: record, streamID: "loop", loops: true)
        var bytes: [UInt8] = []
        var total = 0
        while total < 2500 { total += source.appendFrame(maxSamples: 300, to: &bytes) }
        let decoder = try FrameDecoder()
        _ = Array(source.header.jsonLine.utf8).withUnsafeBytes { decoder.append($0) }
        _ = try decoder.next()
        var offset = 0
        var indices: [UInt32] = []
        var firstValues: [Float] = []
        while offset < bytes.count {
            offset += bytes[offset...].withUnsafeBytes { decoder.append($0) }
            while case .frame(let frame)? = try decoder.next() {
                indices.append(frame.firstSampleIndex ?? 0)
                firstValues.append(frame.millivolts[0])
            }
        }
        #expect(indices == [0, 300, 600, 900, 1000, 1300, 1600, 1900, 2000, 2300])
        // The frame at 1000 starts the record again.
        #expect(firstValues[4] == firstValues[0])
        var once = try RecordSource(record: record, streamID: "once", loops: false)
        var sink: [UInt8] = []
        #expect(once.appendFrame(maxSamples: 2000, to: &sink) == 1000)
        #expect(once.appendFrame(maxSamples: 2000, to: &sink) == 0)
    }

    @Test func replayAndSimulateDeliverTheirStreamsToTheDaemon() async throws {
        let harness = try await IngestHarness.start(shards: 2)
        let high = try DaemonTestSupport.samplePath("ECGClassification_PTBXL/00008_hr")
        let ptb = try DaemonTestSupport.samplePath("wfdb-python/s0010_re")
        let replay = try ReplayCommand.parse([
            high + ".hea", ptb, "--socket", harness.socketPath, "--speed", "max", "--parallel", "2",
        ])
        let simulate = try SimulateCommand.parse([
            "--rhythm", "afib", "--seconds", "5", "--rate", "250", "--format", "csv", "--speed", "max", "--socket",
            harness.socketPath,
            "--stream-id", "sim",
        ])
        try await testGracefulShutdownRunning(harness) {
            try await replay.run()
            try await simulate.run()
            await harness.recorder.wait { $0.filter(\.isEnded).count == 5 }
        }
        await harness.finish()
        let ended = Set(harness.recorder.events.filter(\.isEnded).compactMap(\.streamID))
        #expect(ended == ["00008_hr-1", "00008_hr-2", "s0010_re-3", "s0010_re-4", "sim"])
        let opened = harness.recorder.events.compactMap { event -> IngestStreamInfo? in
            if case .opened(let info) = event { info } else { nil }
        }
        #expect(opened.first { $0.streamID == "s0010_re-3" }?.sampleRateHz == 1000)
        #expect(opened.first { $0.streamID == "sim" }?.format == "csv")
        // 38.4 s at 1000 Hz, delayed 0.2 s by the resampler: 3820 samples at 100 Hz, 72 windows of 250 every 50.
        let summaries = harness.recorder.events.compactMap { event -> (String, IngestStreamSummary)? in
            if case .ended(let id, let summary) = event { (id, summary) } else { nil }
        }
        #expect(summaries.first { $0.0 == "s0010_re-4" }?.1.windows == 72)
    }

    @Test func simulateReportsTheDaemonsRefusal() async throws {
        let harness = try await IngestHarness.start(shards: 1) { $0.maxStreams = 1 }
        let holder = try TestStreams.simulated(streamID: "holder", seconds: 0.2)
        let simulate = try SimulateCommand.parse(["--seconds", "1", "--speed", "max", "--socket", harness.socketPath])
        try await testGracefulShutdownRunning(harness) {
            _ = try await harness.send(holder) {
                await harness.recorder.wait(for: "holder") { $0.isOpened }
                await #expect {
                    try await simulate.run()
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
