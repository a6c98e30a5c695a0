import Foundation
import Model
import TestSupport
import Testing

@testable import Monitor

@Suite struct FileClassifierTests {
    static func model(_ name: String) throws -> CompiledModel { try DaemonTestSupport.fixtureModel(name) }

    static func input(windows: Int, time: Int) throws -> [Float] {
        let data = try Data(contentsOf: DaemonTestSupport.modelFixtures.appending(path: "input_t\(time).f32"))
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
        let classifier = FileClassifier(model: model, modelPath: "m.onnx", includesLogits: true)
        let array = NpyArray(shape: [3, 12, 250], values: try Self.input(windows: 3, time: 250))
        let report = try classifier.classifyArray(array, path: "x.npy")
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
        let classifier = FileClassifier(model: model, modelPath: "m.onnx")
        let values = try Self.input(windows: 1, time: 250)
        let report = try classifier.classifyArray(NpyArray(shape: [12, 250], values: values), path: "x.npy")
        let expected = try PlanExecutor(model: model, maxBatch: 1, maxTimeSamples: 250)
            .logits(for: values, batch: 1, timeSamples: 250)
        #expect(report.windows.count == 1 && report.windows[0].logits == nil)
        #expect(zip(report.windows[0].probabilities, expected).allSatisfy { abs($0 - 1 / (1 + exp(-$1))) < 1e-6 })
    }

    @Test func refusesAnArrayWithTheWrongLeadCount() throws {
        let classifier = FileClassifier(model: try Self.model("tiny.onnx"), modelPath: "m.onnx")
        #expect(throws: InputError.self) {
            try classifier.classifyArray(
                NpyArray(shape: [8, 10], values: Array(repeating: 0, count: 80)), path: "x.npy")
        }
    }

    @Test func refusesWindowsTooLongToRun() throws {
        let classifier = FileClassifier(model: try Self.model("tiny.onnx"), modelPath: "m.onnx")
        let time = FileClassifier.maxTime + 1
        #expect(throws: InputError.self) {
            try classifier.classifyArray(
                NpyArray(shape: [12, time], values: Array(repeating: 0, count: 12 * time)),
                path: "x.npy"
            )
        }
    }
}
