import Foundation
import Testing

@testable import Model

/// The streaming executor against ONNX Runtime's logits at every sample of the full-sequence graph
/// (Fixtures/streaming, written by tools/make_streaming_fixture.py from the training code's export).
@Suite struct StreamingExecutorTests {
    static let leads = 12
    static let samples = 1000
    static let classes = 5

    static let model = Result { try StreamingModel(contentsOf: Fixtures.path("streaming/streaming.onnx")) }
    /// `[12][1000]`.
    static let input = Result { try Fixtures.floats("streaming/input.f32") }
    /// `[5][1000]`: the logits at every sample.
    static let expected = Result { try Fixtures.floats("streaming/logits.f32") }

    /// `[leads][count]` of the fixture input from sample `start`, as one stream's hop.
    static func hop(_ input: [Float], from start: Int, count: Int) -> [Float] {
        var hop: [Float] = []
        hop.reserveCapacity(leads * count)
        for lead in 0..<leads { hop += input[lead * samples + start..<lead * samples + start + count] }
        return hop
    }

    /// Streams the fixture input in reads of `lengths` (summing to at most 1000) and checks the logits after each
    /// read against ONNX Runtime's at that read's last sample; returns the largest difference.
    static func streamAndCompare(lengths: [Int], executor: StreamingExecutor, state: StreamingState) throws -> Float {
        let input = try Self.input.get()
        let expected = try Self.expected.get()
        var worst: Float = 0
        var start = 0
        var logits = [Float](repeating: 0, count: classes)
        for length in lengths {
            let hop = hop(input, from: start, count: length)
            try hop.withUnsafeBufferPointer { hop throws(ModelError) in
                try executor.advance([state], samples: length, input: hop.baseAddress!, logits: &logits)
            }
            start += length
            for c in 0..<classes {
                worst = max(worst, abs(logits[c] - expected[c * samples + start - 1]))
            }
        }
        #expect(state.samplesSeen == start)
        return worst
    }

    @Test func loadsTheStructureFromTheNamesAndShapes() throws {
        let model = try Self.model.get()
        #expect(model.modules.count == 6 && model.shortcuts.count == 2 && model.residualEvery == 3)
        #expect(model.modules[0].branches.map(\.kernel) == [39, 19, 9])
        #expect(model.modules[0].inputs == 12 && model.modules[1].inputs == 128)
        #expect(model.classCount == Self.classes && model.leadCount == Self.leads)
        #expect(model.timeConstantSamples == 20 && model.firstReadoutSamples == 250)
        #expect(model.config.classes.map(\.code) == ["C0", "C1", "C2", "C3", "C4"])
    }

    /// Hops of 1, 7, 50 and 125 samples: at every hop the logits equal ONNX Runtime's on the whole prefix.
    @Test(arguments: [1, 7, 50, 125])
    func everyHopMatchesTheFullPassOnThePrefix(hop: Int) throws {
        let model = try Self.model.get()
        let executor = StreamingExecutor(model: model, maxStreams: 1, maxSamples: hop)
        let state = StreamingState(model: model)
        let lengths = Array(repeating: hop, count: Self.samples / hop)
        let worst = try Self.streamAndCompare(lengths: lengths, executor: executor, state: state)
        #expect(worst < 1e-4, "largest difference \(worst) with hops of \(hop)")
    }

    /// Reads of irregular lengths (1 to 97 samples, a different scramble per case) give the same logits as any
    /// other cut.
    @Test(arguments: [1, 2, 3])
    func irregularReadSplitsMatchTheFullPass(scramble: Int) throws {
        let model = try Self.model.get()
        var lengths: [Int] = []
        while lengths.reduce(0, +) < Self.samples - 200 {
            lengths.append((lengths.count * 61 + scramble * 37) % 97 + 1)
        }
        let executor = StreamingExecutor(model: model, maxStreams: 1, maxSamples: 97)
        let worst = try Self.streamAndCompare(lengths: lengths, executor: executor, state: StreamingState(model: model))
        #expect(worst < 1e-4, "largest difference \(worst) with reads \(lengths.prefix(8))…")
    }

    /// Streams advanced together in one call get what each gets alone; a reset state starts over exactly.
    @Test func streamsInOneCallAndAResetStateStayExact() throws {
        let model = try Self.model.get()
        let input = try Self.input.get()
        let expected = try Self.expected.get()
        // passes of two streams: the third goes through the layers on its own
        let executor = StreamingExecutor(model: model, maxStreams: 3, maxSamples: 50, passColumns: 100)
        let states = (0..<3).map { _ in StreamingState(model: model) }
        // stream 1 starts with a different signal, then is reset and fed the fixture like the others
        let noise = (0..<Self.leads * 50).map { Float(($0 * 7919) % 13) / 4 - 1.5 }
        var logits = [Float](repeating: 0, count: 3 * Self.classes)
        for _ in 0..<4 {
            let hops = Self.hop(input, from: 0, count: 50) + noise + Self.hop(input, from: 0, count: 50)
            try executor.advance(states, samples: 50, input: hops, logits: &logits)
        }
        for state in states { state.reset() }
        #expect(states.allSatisfy { $0.samplesSeen == 0 })
        var worst: Float = 0
        for start in stride(from: 0, to: 500, by: 50) {
            let hop = Self.hop(input, from: start, count: 50)
            try executor.advance(states, samples: 50, input: hop + hop + hop, logits: &logits)
            for stream in 0..<3 {
                for c in 0..<Self.classes {
                    worst = max(worst, abs(logits[stream * Self.classes + c] - expected[c * Self.samples + start + 49]))
                }
            }
        }
        #expect(worst < 1e-4)
    }

    /// An executor sized for whole windows also takes short hops for many streams: the passes of a 7-sample call
    /// hold 73 streams (511 columns), more than two 250-sample windows' worth of streams.
    @Test func shortHopsForManyStreamsFitAnExecutorSizedForWindows() throws {
        let model = try Self.model.get()
        let input = try Self.input.get()
        let expected = try Self.expected.get()
        let streams = 80
        let executor = StreamingExecutor(model: model, maxStreams: streams, maxSamples: 250)
        let states = (0..<streams).map { _ in StreamingState(model: model) }
        var logits = [Float](repeating: 0, count: streams * Self.classes)
        var worst: Float = 0
        for start in stride(from: 0, to: 70, by: 7) {
            let hop = Self.hop(input, from: start, count: 7)
            let all = (0..<streams).flatMap { _ in hop }
            try executor.advance(states, samples: 7, input: all, logits: &logits)
            for stream in 0..<streams {
                for c in 0..<Self.classes {
                    worst = max(worst, abs(logits[stream * Self.classes + c] - expected[c * Self.samples + start + 6]))
                }
            }
        }
        #expect(worst < 1e-4)
    }

    /// Thirty minutes of stream at 100 Hz (180,000 samples) in hops of 50: the running means cannot drift. With a
    /// periodic input the state settles into the same period, so the logits a period apart late in the stream
    /// agree, and the stream cut into hops of 7 instead ends with the same logits.
    @Test func thirtyMinutesOfStreamDoNotDrift() async throws {
        let model = try Self.model.get()
        let input = try Self.input.get()
        let period = 1000
        let minutes = 30
        let total = minutes * 60 * 100
        @Sendable func run(hop: Int) throws -> [[Float]] {
            let executor = StreamingExecutor(model: model, maxStreams: 1, maxSamples: hop)
            let state = StreamingState(model: model)
            var logits = [Float](repeating: 0, count: Self.classes)
            var atPeriodEnds: [[Float]] = []
            var position = 0
            while position < total {
                let length = min(hop, total - position, period - position % period)
                let chunk = Self.hop(input, from: position % period, count: length)
                try executor.advance([state], samples: length, input: chunk, logits: &logits)
                position += length
                if position % period == 0 { atPeriodEnds.append(logits) }
            }
            return atPeriodEnds
        }
        // Seconds to minutes of arithmetic: on a thread of its own, so that it does not hold one of the few
        // threads of the cooperative pool that tests waiting on sockets and clocks need.
        let (byFifty, bySeven) = try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { (try run(hop: 50), try run(hop: 7)) }) }.start()
        }
        #expect(byFifty.count == total / period)
        let last = byFifty[byFifty.count - 1]
        let previous = byFifty[byFifty.count - 2]
        let tenMinutesIn = byFifty[byFifty.count / 3]
        for c in 0..<Self.classes {
            #expect(abs(last[c] - previous[c]) < 1e-4)
            #expect(abs(last[c] - tenMinutesIn[c]) < 1e-4)
            #expect(abs(last[c] - bySeven[bySeven.count - 1][c]) < 1e-4)
        }
    }

    @Test func aCallBeyondTheExecutorsSizesIsRefused() throws {
        let model = try Self.model.get()
        let executor = StreamingExecutor(model: model, maxStreams: 1, maxSamples: 10)
        let state = StreamingState(model: model)
        let input = [Float](repeating: 0, count: Self.leads * 11)
        var logits = [Float](repeating: 0, count: Self.classes)
        #expect(throws: ModelError.self) {
            try executor.advance([state], samples: 11, input: input, logits: &logits)
        }
        #expect(throws: ModelError.self) {
            try executor.advance([state, state], samples: 1, input: input, logits: &logits)
        }
        #expect(state.samplesSeen == 0)
    }

    @Test func aWindowedModelIsNotAStreamingOne() throws {
        #expect(try StreamingModel.isStreaming(bytes: Fixtures.bytes("streaming/streaming.onnx")))
        #expect(try !StreamingModel.isStreaming(bytes: Fixtures.bytes("paper.onnx")))
        #expect(throws: ModelError.self) { try StreamingModel(bytes: Fixtures.bytes("paper.onnx")) }
    }
}

/// The engine a file gets follows its metadata.
@Suite struct LoadedModelTests {
    @Test func aFileIsServedByTheEngineItsMetadataNames() throws {
        guard case .streaming(let streaming) = try LoadedModel(contentsOf: Fixtures.path("streaming/streaming.onnx"))
        else {
            Issue.record("the streaming fixture was not loaded as a streaming model")
            return
        }
        #expect(streaming.classCount == 5)
        guard case .windowed(let windowed) = try LoadedModel(contentsOf: Fixtures.path("paper.onnx")) else {
            Issue.record("the paper fixture was not loaded as a windowed model")
            return
        }
        #expect(windowed.plan.outputCount == 71)
        #expect(throws: ModelError.self) { try LoadedModel(contentsOf: Fixtures.path("bad/unsupported_op.onnx")) }
    }
}
