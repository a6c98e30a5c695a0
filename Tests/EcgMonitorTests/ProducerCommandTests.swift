import ArgumentParser
import Foundation
import Monitor
import Producers
import ServiceLifecycleTestKit
import Stream
import TestSupport
import Testing

@testable import ecg_monitor

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

    @Test(arguments: [["--frame-ms", "0"], ["--frame-ms", "1001"], ["--frame-ms", "ten"]])
    func frameSpanOutsideItsRangeIsRefused(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try ReplayCommand.parse(["a"] + arguments) }
        #expect(throws: (any Error).self) { try SimulateCommand.parse(arguments) }
    }

    /// Collects each write a producer makes, to see how it cuts its stream.
    final class WriteRecorder: ProtocolOutput, @unchecked Sendable {
        private let lock = NSLock()
        private var recorded: [[UInt8]] = []
        var writes: [[UInt8]] { lock.withLock { recorded } }

        func write(_ bytes: [UInt8]) async throws { lock.withLock { recorded.append(bytes) } }
    }

    @Test(arguments: [(20, 2), (100, 10), (1, 1)])
    func pacedFramesSpanTheRequestedMilliseconds(frameMilliseconds: Int, instantsPerWrite: Int) async throws {
        let record = try WFDBRecord.read(
            path: try DaemonTestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00057_lr")
        )
        var source = try RecordSource(record: record, streamID: "frames", loops: false)
        let output = WriteRecorder()
        try await StreamProducer.run(
            source: &source, pace: .realTime(factor: 10_000), output: output, maxSeconds: 1,
            frameMilliseconds: frameMilliseconds)
        let decoder = try FrameDecoder()
        var perWrite: [Int] = []
        for write in output.writes {
            _ = write.withUnsafeBytes { decoder.append($0) }
            var instants = 0
            while let item = try decoder.next() {
                if case .frame(let frame) = item { instants += frame.sampleCount }
            }
            perWrite.append(instants)
        }
        // The header alone, then one second of the 100 Hz record in equal frames (a 1 ms frame is one sample).
        #expect(perWrite.first == 0)
        #expect(Array(perWrite.dropFirst()) == Array(repeating: instantsPerWrite, count: 100 / instantsPerWrite))
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
}
