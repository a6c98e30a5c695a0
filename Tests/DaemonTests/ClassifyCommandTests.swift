import ArgumentParser
import Foundation
import Model
import Testing

@testable import Daemon

@Suite struct ClassifyCommandTests {
    static let fixtures = URL(filePath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "ModelTests/Fixtures")

    static func model(_ name: String) throws -> Model { try Model(contentsOf: fixtures.appending(path: name).path) }

    static func input(windows: Int, time: Int) throws -> [Float] {
        let data = try Data(contentsOf: fixtures.appending(path: "input_t\(time).f32"))
        let bytes = [UInt8](data)
        var values: [Float] = []
        for i in 0..<(windows * 12 * time) {
            var bits: UInt32 = 0
            for b in 0..<4 { bits |= UInt32(bytes[4 * i + b]) << (8 * UInt32(b)) }
            values.append(Float(bitPattern: bits))
        }
        return values
    }

    @Test func reportsEveryWindowAndTheirMaximum() throws {
        let model = try Self.model("paper.onnx")
        let command = try ClassifyCommand.parse(["--model", "m.onnx", "x.npy", "--logits"])
        let array = NpyArray(shape: [3, 12, 250], values: try Self.input(windows: 3, time: 250))
        let report = try command.classifyArray(array, model: model)
        #expect(report.classes.count == 71 && report.classes.first == "NDT")
        #expect(report.windows.map(\.startSample) == [0, 250, 500])
        for window in report.windows {
            let logits = try #require(window.logits)
            #expect(zip(logits, window.probabilities).allSatisfy { abs(1 / (1 + exp(-$0)) - $1) < 1e-6 })
        }
        for c in 0..<71 {
            #expect(report.aggregate.probabilities[c] == report.windows.map { $0.probabilities[c] }.max())
        }
        #expect(report.aggregate.method == "max")
    }

    @Test func matchesTheEngineOnASingleWindowWithoutLogits() throws {
        let model = try Self.model("paper.onnx")
        let command = try ClassifyCommand.parse(["--model", "m.onnx", "x.npy"])
        let values = try Self.input(windows: 1, time: 250)
        let report = try command.classifyArray(NpyArray(shape: [12, 250], values: values), model: model)
        let expected = try IncepSE(model: model, maxBatch: 1, maxTimeSamples: 250)
            .logits(for: values, batch: 1, timeSamples: 250)
        #expect(report.windows.count == 1 && report.windows[0].logits == nil)
        #expect(zip(report.windows[0].probabilities, expected).allSatisfy { abs($0 - 1 / (1 + exp(-$1))) < 1e-6 })
    }

    @Test func refusesAnArrayWithTheWrongLeadCount() throws {
        let command = try ClassifyCommand.parse(["--model", "m.onnx", "x.npy"])
        #expect(throws: InputError.self) {
            try command.classifyArray(
                NpyArray(shape: [8, 10], values: Array(repeating: 0, count: 80)), model: try Self.model("tiny.onnx"))
        }
    }

    @Test func refusesWindowsTooLongToRun() throws {
        let command = try ClassifyCommand.parse(["--model", "m.onnx", "x.npy"])
        let time = ClassifyCommand.maxTime + 1
        #expect(throws: InputError.self) {
            try command.classifyArray(
                NpyArray(shape: [12, time], values: Array(repeating: 0, count: 12 * time)),
                model: try Self.model("tiny.onnx"))
        }
    }
}

@Suite struct BenchCommandTests {
    @Test func measuresEveryWorkersCalls() throws {
        let model = try ClassifyCommandTests.model("tiny.onnx")
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
