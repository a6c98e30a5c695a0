import Foundation
import Testing

@testable import Model

/// Bad model files must be refused with an error naming the problem, never crash.
@Suite struct ModelLoadingTests {
    /// What `Model(contentsOf:)` reports for a bad fixture, after checking that the error names the file first.
    private func problem(loading fixture: String, sourceLocation: SourceLocation = #_sourceLocation) -> ModelError? {
        let path = Fixtures.path(fixture)
        let error = #expect(throws: ModelError.self, sourceLocation: sourceLocation) {
            try CompiledModel(contentsOf: path)
        }
        guard case .badFile(let named, let problem) = error else {
            Issue.record(
                "expected an error naming the file, got \(String(describing: error))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(named == path, sourceLocation: sourceLocation)
        #expect(error?.description == "\(path): \(problem)", sourceLocation: sourceLocation)
        return problem
    }

    @Test func refusesAWeightOfTheWrongShape() throws {
        guard case .shapeMismatch(let tensor, _, _) = problem(loading: "bad/wrong_shape.onnx") else {
            Issue.record("expected a shape mismatch")
            return
        }
        #expect(tensor.hasSuffix("weight"))
    }

    @Test func refusesAnUnsupportedOperatorNamingItAndItsNode() throws {
        let found = problem(loading: "bad/unsupported_op.onnx")
        #expect(found == .unsupportedOperator(op: "Tanh", node: "suspicious_tanh"))
        #expect(found?.description.contains("Tanh") == true)
    }

    @Test func refusesAMissingInitializer() throws {
        guard case .missingTensor(let name, _) = problem(loading: "bad/missing_initializer.onnx") else {
            Issue.record("expected a missing tensor")
            return
        }
        #expect(name.hasSuffix("weight"))
    }

    @Test func refusesNaNWeights() throws {
        guard case .nonFiniteWeight(_, let index) = problem(loading: "bad/nan_weight.onnx") else {
            Issue.record("expected a non-finite weight")
            return
        }
        #expect(index == 3)
    }

    @Test func refusesExternalData() throws {
        guard case .externalData = problem(loading: "bad/external_data.onnx") else {
            Issue.record("expected external data")
            return
        }
    }

    @Test func refusesPaddingTooLargeToAddUp() throws {
        guard case .unsupportedUsage(_, let reason) = problem(loading: "bad/huge_pads.onnx") else {
            Issue.record("expected an unsupported usage")
            return
        }
        #expect(reason.contains("pads 4611686018427387904/4611686018427387904"))
    }

    @Test func namesACorruptFileInItsError() throws {
        let path = FileManager.default.temporaryDirectory.appending(
            path: "corrupt-\(UInt64.random(in: 0...UInt64.max)).onnx")
        defer { try? FileManager.default.removeItem(at: path) }
        try Data(try Fixtures.bytes("tiny.onnx").prefix(1000)).write(to: path)
        let error = #expect(throws: ModelError.self) { try CompiledModel(contentsOf: path.path) }
        guard case .badFile(let named, .truncated) = error else {
            Issue.record("expected a truncated file named in the error, got \(String(describing: error))")
            return
        }
        #expect(named == path.path)
        #expect(error?.description.hasPrefix(path.path + ": model file is truncated: ") == true)
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
