import Foundation
import Model
import Synchronization
import TestSupport
import Testing

@testable import Benchmarks

@Suite struct EngineBenchmarkTests {
    @Test func measuresEveryWorkersCalls() throws {
        let model = try DaemonTestSupport.fixtureModel("tiny.onnx")
        let workers = EngineBenchmark.measure(model: model, batch: 2, time: 100, threads: 2, seconds: 0.2)
        #expect(workers.count == 2)
        #expect(
            workers.allSatisfy { !$0.wall.isEmpty && $0.wall.count == $0.cpu.count && $0.wall.allSatisfy { $0 > 0 } })
    }

    /// A deadline already past stands for a worker descheduled through the whole run on a busy machine.
    @Test func aWorkerPastTheDeadlineStillReportsItsFirstCall() {
        final class Counter: Sendable {
            let calls = Mutex(0)
        }
        let counter = Counter()
        let perWorker = EngineBenchmark.timeCalls(threads: 2, seconds: 0) { _ in
            { counter.calls.withLock { $0 += 1 } }
        }
        #expect(perWorker.map(\.wall.count) == [1, 1] && perWorker.map(\.cpu.count) == [1, 1])
        // each worker: the warm-up call and the one measured
        #expect(counter.calls.withLock { $0 } == 4)
    }
}

@Suite struct DetectorBenchmarkTests {
    @Test func timesWholePassesUntilTheBudgetIsSpent() {
        var frames = [Float](repeating: 0, count: 2 * 1000)
        for sample in stride(from: 100, to: 1000, by: 200) { frames[2 * sample] = 1.5 }
        let result = DetectorBenchmark.measure(frames: frames, leadCount: 2, sampleRateHz: 250, cpuSeconds: 0.05)
        #expect(result.passes >= 1 && result.samples == 1000 * result.passes)
        #expect(result.cpuSeconds >= 0.05 && result.nanosecondsPerSample > 0)
        let share = result.percentOfOneCorePerHundredStreams(sampleRateHz: 250)
        #expect(abs(share - 100 * 100 * result.cpuSeconds / (Double(result.samples) / 250)) < 1e-9)
    }
}

@Suite struct StreamingBenchmarkTests {
    @Test func measuresHopsOfEveryStreamAndTheStateEachCarries() throws {
        let path = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "ModelTests/Fixtures/streaming/streaming.onnx").path
        let model = try StreamingModel(contentsOf: path)
        let report = StreamingBenchmark.run(
            model: model, streams: 3, hop: 25, threads: 1, seconds: 0.3, sampleRateHz: 100)
        #expect(report.calls >= 1 && report.hopsPerCpuSecond > 0 && report.hopsPerSecond > 0)
        #expect(report.stateBytesPerStream == StreamingState(model: model).byteCount)
        #expect(abs(report.realTimeStreamsPerThread - report.hopsPerCpuSecond * 0.25) < 1e-9)
        #expect(report.latencyMs.p50 <= report.latencyMs.p99)
    }
}
