import Testing

@testable import Model

/// Bad model files must be refused with an error naming the problem, never crash.
@Suite struct ModelLoadingTests {
    @Test func refusesAWeightOfTheWrongShape() throws {
        let error = #expect(throws: ModelError.self) {
            try CompiledModel(contentsOf: Fixtures.path("bad/wrong_shape.onnx"))
        }
        guard case .shapeMismatch(let tensor, _, _) = error else {
            Issue.record("expected a shape mismatch, got \(String(describing: error))")
            return
        }
        #expect(tensor.hasSuffix("weight"))
    }

    @Test func refusesAnUnsupportedOperatorNamingItAndItsNode() throws {
        let error = #expect(throws: ModelError.self) {
            try CompiledModel(contentsOf: Fixtures.path("bad/unsupported_op.onnx"))
        }
        #expect(error == .unsupportedOperator(op: "Tanh", node: "suspicious_tanh"))
        #expect(error?.description.contains("Tanh") == true)
    }

    @Test func refusesAMissingInitializer() throws {
        let error = #expect(throws: ModelError.self) {
            try CompiledModel(contentsOf: Fixtures.path("bad/missing_initializer.onnx"))
        }
        guard case .missingTensor(let name, _) = error else {
            Issue.record("expected a missing tensor, got \(String(describing: error))")
            return
        }
        #expect(name.hasSuffix("weight"))
    }

    @Test func refusesNaNWeights() throws {
        let error = #expect(throws: ModelError.self) {
            try CompiledModel(contentsOf: Fixtures.path("bad/nan_weight.onnx"))
        }
        guard case .nonFiniteWeight(_, let index) = error else {
            Issue.record("expected a non-finite weight, got \(String(describing: error))")
            return
        }
        #expect(index == 3)
    }

    @Test func refusesExternalData() throws {
        let error = #expect(throws: ModelError.self) {
            try CompiledModel(contentsOf: Fixtures.path("bad/external_data.onnx"))
        }
        guard case .externalData = error else {
            Issue.record("expected external data, got \(String(describing: error))")
            return
        }
    }

    @Test func refusesAMissingFile() {
        let error = #expect(throws: ModelError.self) {
            try CompiledModel(contentsOf: Fixtures.path("no-such-model.onnx"))
        }
        guard case .unreadable(let path, _) = error else {
            Issue.record("expected unreadable, got \(String(describing: error))")
            return
        }
        #expect(path.hasSuffix("no-such-model.onnx"))
    }

    @Test func refusesEveryTruncationOfAGoodFile() throws {
        let bytes = try Fixtures.bytes("tiny.onnx")
        var failures = 0
        // Every prefix length would be slow; stepping by a prime visits every structure boundary class.
        for length in Swift.stride(from: 0, to: bytes.count, by: 7) {
            do {
                _ = try CompiledModel(bytes: Array(bytes.prefix(length)))
                Issue.record("a file truncated to \(length) of \(bytes.count) bytes loaded")
            } catch {
                failures += 1
            }
        }
        #expect(failures == (bytes.count + 6) / 7)
    }

    @Test func survivesCorruptedBytes() throws {
        let bytes = try Fixtures.bytes("tiny.onnx")
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<300 {
            var corrupted = bytes
            for _ in 0..<4 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                corrupted[Int(state >> 33) % corrupted.count] = UInt8(truncatingIfNeeded: state >> 17)
            }
            // Loading may succeed (a flipped weight is still a model) or fail; it must never crash.
            if let model = try? CompiledModel(bytes: corrupted) {
                let engine = PlanExecutor(model: model, maxBatch: 1, maxTimeSamples: 50)
                _ = try? engine.logits(
                    for: Array(repeating: 0.1, count: model.plan.inputChannels * 50), batch: 1, timeSamples: 50)
            }
        }
    }

    @Test func reportsNoWarningWithMetadataAndOneWithout() throws {
        let paper = try CompiledModel(contentsOf: Fixtures.path("paper.onnx"))
        #expect(paper.warnings.isEmpty)
        let seed = try CompiledModel(contentsOf: Fixtures.path("seed_dynamo.onnx"))
        #expect(seed.warnings.count == 1)
        #expect(seed.config.classes.first?.code == "class0")
    }
}
