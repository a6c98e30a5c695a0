import Foundation
import Model
import Testing

@testable import Monitor

/// The streaming path of the workers' engine: windows of a stream become hops of new samples, exact against ONNX
/// Runtime's full pass however the windows arrive (Tests/ModelTests/Fixtures/streaming).
@Suite struct WindowEngineTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelTests/Fixtures/streaming")
    static let leads = 12
    static let samples = 1000
    static let classes = 5
    static let window = 250

    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent(name))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// The fixture input's window ending at `end`, `[12][250]`.
    static func window(_ input: [Float], endingAt end: Int) -> [Float] {
        (0..<leads).flatMap { lead in input[lead * samples + end - window..<lead * samples + end] }
    }

    static func engine() throws -> WindowEngine {
        let model = LoadedModel.streaming(
            try StreamingModel(contentsOf: fixtures.appendingPathComponent("streaming.onnx").path))
        return try WindowEngine(model: model, maxBatch: 4, windowSamples: window)
    }

    /// Runs the windows ending at `ends` (one batch per inner array) and returns each window's logits.
    static func run(_ engine: WindowEngine, batches: [[Int]], stream: WindowQueue.Ticket) throws -> [[Float]] {
        let input = try floats("input.f32")
        var results: [[Float]] = []
        for ends in batches {
            let batch = ends.flatMap { window(input, endingAt: $0) }
            let windows = ends.map { WindowEngine.Window(stream: stream, endSample: $0) }
            var logits = [Float](repeating: 0, count: ends.count * classes)
            engine.run(batch, windows: windows[...], into: &logits)
            results += (0..<ends.count).map { Array(logits[$0 * classes..<($0 + 1) * classes]) }
        }
        return results
    }

    static func largestDifference(_ results: [[Float]], ends: [Int]) throws -> Float {
        let expected = try floats("logits.f32")
        var worst: Float = 0
        for (logits, end) in zip(results, ends) {
            for c in 0..<classes { worst = max(worst, abs(logits[c] - expected[c * samples + end - 1])) }
        }
        return worst
    }

    @Test func windowsEveryHopOneAfterAnotherOrSeveralPerBatchAreExact() throws {
        let ends = Array(stride(from: 250, through: 1000, by: 50))
        let stream = WindowQueue.Ticket(slot: 1, generation: 1)
        let single = try Self.run(try Self.engine(), batches: ends.map { [$0] }, stream: stream)
        #expect(try Self.largestDifference(single, ends: ends) < 1e-4)
        // a stream's consecutive windows in one batch (as `evaluate` sends a record's) are fed in order
        let grouped = try Self.run(
            try Self.engine(), batches: [Array(ends[0..<4]), Array(ends[4...7])], stream: stream)
        #expect(try Self.largestDifference(grouped, ends: Array(ends[0...7])) < 1e-4)
    }

    /// Skipped windows whose samples the next window still holds are fed from it (exact); after a longer gap the
    /// stream starts over from the window, as a stream starting there would.
    @Test func gapsWithinAWindowStayExactLongerOnesStartTheStreamOver() throws {
        let engine = try Self.engine()
        let stream = WindowQueue.Ticket(slot: 2, generation: 1)
        let exact = try Self.run(engine, batches: [[250], [300], [450]], stream: stream)
        #expect(try Self.largestDifference(exact, ends: [250, 300, 450]) < 1e-4)
        let afterGap = try Self.run(engine, batches: [[800]], stream: stream)
        let fresh = try Self.run(try Self.engine(), batches: [[800]], stream: stream)
        #expect(afterGap == fresh)
    }

    /// Streams needing different numbers of new samples share a batch: each gets exactly its own.
    @Test func streamsWithDifferentGapsInOneBatchAreEachExact() throws {
        let engine = try Self.engine()
        let input = try Self.floats("input.f32")
        let first = WindowQueue.Ticket(slot: 4, generation: 1)
        let second = WindowQueue.Ticket(slot: 5, generation: 1)
        _ = try Self.run(engine, batches: [[250]], stream: first)
        _ = try Self.run(engine, batches: [[250]], stream: second)
        // the first stream's next hop (50 new samples) beside the second's window after a lost one (100 new)
        let batch = Self.window(input, endingAt: 300) + Self.window(input, endingAt: 350)
        let windows = [WindowEngine.Window(stream: first, endSample: 300), .init(stream: second, endSample: 350)]
        var logits = [Float](repeating: 0, count: 2 * Self.classes)
        engine.run(batch, windows: windows[...], into: &logits)
        let results = [Array(logits[0..<Self.classes]), Array(logits[Self.classes...])]
        #expect(try Self.largestDifference(results, ends: [300, 350]) < 1e-4)
    }

    /// An ended stream's state is forgotten: the same ticket starts from scratch.
    @Test func anEndedStreamStartsOver() throws {
        let engine = try Self.engine()
        let stream = WindowQueue.Ticket(slot: 3, generation: 1)
        _ = try Self.run(engine, batches: [[250], [300]], stream: stream)
        engine.end(stream)
        let again = try Self.run(engine, batches: [[350]], stream: stream)
        let fresh = try Self.run(try Self.engine(), batches: [[350]], stream: stream)
        #expect(again == fresh)
    }
}
