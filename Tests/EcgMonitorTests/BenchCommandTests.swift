import ArgumentParser
import Model
import TestSupport
import Testing

@testable import ecg_monitor

@Suite struct BenchCommandTests {
    @Test func measuresEveryWorkersCalls() throws {
        let model = try DaemonTestSupport.fixtureModel("tiny.onnx")
        let workers = BenchCommand.measure(model: model, batch: 2, time: 100, threads: 2, seconds: 0.2)
        #expect(workers.count == 2)
        #expect(
            workers.allSatisfy { !$0.wall.isEmpty && $0.wall.count == $0.cpu.count && $0.wall.allSatisfy { $0 > 0 } })
    }

    @Test func refusesNonPositiveSettings() {
        #expect(throws: (any Error).self) { try BenchCommand.parse(["--model", "m.onnx", "--threads", "0"]) }
        #expect(throws: (any Error).self) { try BenchCommand.parse(["--model", "m.onnx", "--seconds", "-1"]) }
        #expect(throws: (any Error).self) {
            try BenchCommand.parse(["--model", "m.onnx", "--batch", "1000000", "--time", "1000000"])
        }
    }
}
