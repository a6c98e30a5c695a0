import Testing

@testable import Model

@Suite struct PlanExecutorTests {
    @Test(arguments: Fixtures.cases)
    func matchesOnnxRuntimeWithinTolerance(_ fixture: Fixtures.Case) throws {
        let model = try CompiledModel(contentsOf: Fixtures.path(fixture.model))
        let time = fixture.time
        let input = Array(try Fixtures.floats(fixture.input).prefix(fixture.batch * 12 * time))
        let expected = try Fixtures.floats(fixture.logits)
        let engine = PlanExecutor(model: model, maxBatch: fixture.batch, maxTimeSamples: time)
        let logits = try engine.logits(for: input, batch: fixture.batch, timeSamples: time)
        #expect(logits.count == expected.count)
        let worst = zip(logits, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4, "max |Δlogit| \(worst)")
    }
}

@Suite struct PlanExecutorValidationTests {
    @Test func refusesBatchesAndWindowsBeyondTheWorkspace() throws {
        let engine = PlanExecutor(
            model: try CompiledModel(contentsOf: Fixtures.path("tiny.onnx")), maxBatch: 2, maxTimeSamples: 100)
        #expect(throws: ModelError.self) { try engine.validate(batch: 3, timeSamples: 100) }
        #expect(throws: ModelError.self) { try engine.validate(batch: 1, timeSamples: 101) }
        #expect(throws: ModelError.self) { try engine.validate(batch: 0, timeSamples: 10) }
        #expect(throws: ModelError.self) {
            try engine.logits(for: Array(repeating: 0, count: 10), batch: 1, timeSamples: 100)
        }
        var withNaN = [Float](repeating: 0, count: 12 * 100)
        withNaN[17] = .nan
        #expect(throws: ModelError.badInput(reason: "sample 17 is nan; samples must be finite")) {
            try engine.logits(for: withNaN, batch: 1, timeSamples: 100)
        }
    }

    @Test func givesEachWindowTheSameLogitsAloneOrInABatch() throws {
        let model = try CompiledModel(contentsOf: Fixtures.path("paper.onnx"))
        let input = Array(try Fixtures.floats("input_t250.f32").prefix(5 * 12 * 250))
        let batched = try PlanExecutor(model: model, maxBatch: 5, maxTimeSamples: 250)
            .logits(for: input, batch: 5, timeSamples: 250)
        let single = PlanExecutor(model: model, maxBatch: 1, maxTimeSamples: 1000)
        for w in 0..<5 {
            let alone = try single.logits(for: Array(input[(w * 3000)..<((w + 1) * 3000)]), batch: 1, timeSamples: 250)
            // The matrix products see other column counts, so rounding may differ; nothing else may.
            let difference = zip(alone, batched[(w * 71)..<((w + 1) * 71)]).map { abs($0 - $1) }.max() ?? 1
            #expect(difference < 1e-5)
        }
    }

    @Test func runsShorterWindowsThanItsWorkspaceHolds() throws {
        let model = try CompiledModel(contentsOf: Fixtures.path("tiny.onnx"))
        let engine = PlanExecutor(model: model, maxBatch: 4, maxTimeSamples: 1000)
        let logits = try engine.logits(for: Array(repeating: 0.5, count: 2 * 12 * 7), batch: 2, timeSamples: 7)
        #expect(logits.count == 2 * model.plan.outputCount && logits.allSatisfy { $0.isFinite })
        #expect(zip(logits[0..<3], logits[3..<6]).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}

@Suite struct PlanExecutorBlockingTests {
    @Test(arguments: [(100, 50), (250, 7), (500, 100), (1250, 1250), (4096, 256), (8192, 4096)])
    func givesTheSameLogitsForAnyPassAndBlockSize(passColumns: Int, im2colColumns: Int) throws {
        let model = try CompiledModel(contentsOf: Fixtures.path("seed_dynamo.onnx"))
        let input = Array(try Fixtures.floats("input_t250.f32").prefix(5 * 12 * 250))
        let expected = try Fixtures.floats("seed_dynamo_t250_b5.f32")
        let engine = PlanExecutor(
            model: model, maxBatch: 5, maxTimeSamples: 250, passColumns: passColumns, im2colColumns: im2colColumns)
        let logits = try engine.logits(for: input, batch: 5, timeSamples: 250)
        #expect(zip(logits, expected).allSatisfy { abs($0 - $1) <= 1e-4 })
    }
}
