import Foundation
import Testing

@testable import Model

@Suite struct ModelPlanTests {
    @Test func compilesThePaperFormIntoFusedLayers() throws {
        let plan = try CompiledModel(contentsOf: Fixtures.path("paper.onnx")).plan
        let groups = plan.layers.compactMap { layer -> ConvolutionGroup? in
            if case .convolutions(let group) = layer { return group }
            return nil
        }
        let wideGroups = groups.filter { $0.spanTaps > 0 }
        #expect(wideGroups.count == 6)
        for group in wideGroups {
            #expect(group.spanTaps == 39 && group.spanLeft == 19)
            #expect(group.convolutions.map(\.kernel) == [39, 19, 9])
            // Centre (all three kernels), the two runs of k39 and k19 only, the two runs of k39 only, each cut
            // into pieces of at most 5 taps: one product per piece, every tap in exactly one.
            #expect(group.blocks.map(\.firstTap) == [15, 20, 10, 24, 0, 5, 29, 34])
            #expect(group.blocks.map(\.taps) == [5, 4, 5, 5, 5, 5, 5, 5])
            #expect(group.blocks.map(\.output.channels) == [96, 96, 64, 64, 32, 32, 32, 32])
            #expect(group.shiftCopies == 5)
            // BN + ReLU after the concatenation: BN folded into every branch, the ReLU deferred into the SE block.
            #expect(group.convolutions.allSatisfy { !$0.relu })
        }
        let maxPools = plan.layers.filter { if case .maxPool = $0 { true } else { false } }
        let gates = plan.layers.compactMap { layer -> ChannelGate? in
            if case .gate(let gate) = layer { return gate }
            return nil
        }
        let means = plan.layers.filter { if case .timeMean(_, _, true) = $0 { true } else { false } }
        #expect(means.count == 6)
        let adds = plan.layers.filter { if case .add = $0 { true } else { false } }
        // Every SE gate rectifies as it reads; the two residual sums (with their ReLU) are fused into the gates
        // before them, and the pool branch of modules 2 to 6 pools the previous gate's output as it is written.
        #expect(gates.count == 6 && gates.allSatisfy(\.rectified))
        #expect(gates.map { $0.residual != nil } == [false, false, true, false, false, true])
        #expect(gates.map(\.relu) == [false, false, true, false, false, true])
        #expect(gates.map { $0.pool?.kernel } == [3, 3, 3, 3, 3, nil])
        #expect(maxPools.count == 1 && adds.isEmpty)
        #expect(!plan.layers.contains { if case .copy = $0 { true } else { false } })
        #expect(plan.inputChannels == 12 && plan.outputCount == 71)
        #expect(plan.fixedTime == nil && plan.fixedBatch == nil)
    }

    /// Against every (sample, tap) pair: the product keeps exactly the samples with a tap inside the window.
    @Test(arguments: [0, 3, 9, 15, 20], [1, 4, 5])
    func productsSkipOnlySamplesThatReadNothingButPadding(firstTap: Int, taps: Int) {
        let output = SequenceRef(slot: 0, channelOffset: 0, channels: 1)
        let product = ConvolutionBlock(firstTap: firstTap, taps: taps, output: output, weights: 0, spanLeft: 9)
        for time in [1, 7, 30] {
            for block in [0..<time, 0..<min(4, time), (time / 2)..<time] {
                let reaching = block.filter { t in
                    (firstTap..<(firstTap + taps)).contains { tap in (0..<time).contains(t + tap - 9) }
                }
                let kept = product.samples(reachingTheWindowAmong: block, time: time)
                #expect(Array(kept) == reaching, "time \(time), block \(block)")
            }
        }
    }

    @Test func countsThePapersFlopsPerWindow() throws {
        let plan = try CompiledModel(contentsOf: Fixtures.path("paper.onnx")).plan
        let mflop = Double(plan.flopsPerWindow(timeSamples: 250)) / 1e6
        #expect(abs(mflop - 235.7) < 0.1)
    }

    @Test(arguments: ["seed_dynamo.onnx", "seed_legacy.onnx"])
    func compilesBothExportersOfTheSeedFormAlike(_ file: String) throws {
        let plan = try CompiledModel(contentsOf: Fixtures.path(file)).plan
        let wide = plan.layers.compactMap { layer -> ConvolutionGroup? in
            if case .convolutions(let group) = layer, group.spanTaps > 0 { return group }
            return nil
        }
        #expect(wide.count == 3)
        // Keras padding of even kernels: k=40 pads 19 before and 20 after, so the union window is 40 taps.
        #expect(wide.allSatisfy { $0.spanTaps == 40 && $0.spanLeft == 19 })
        #expect(wide.allSatisfy { $0.convolutions.map(\.padLeft) == [19, 9, 4] })
    }

    @Test func foldsBatchNormIntoTheConvolution() {
        // w = [[1, 2]] (one output, one input, kernel 2), bias 0.5; BN scale 3, shift -1.
        let folded = ModelWeights.Convolution(
            onnxWeights: [1, 2], outputs: 1, inputs: 1, kernel: 2, scale: [3], shift: [0.5 * 3 - 1])
        #expect(folded.weights == [3, 6])
        #expect(folded.bias == [0.5])
    }

    @Test func transposesWeightMatrices() {
        // [2][3] = 1 2 3 / 4 5 6 → [3][2] = 1 4 / 2 5 / 3 6.
        #expect(ModelWeights.transposed([1, 2, 3, 4, 5, 6], rows: 2) == [1, 4, 2, 5, 3, 6])
    }

    @Test func reordersWeightsTapMajor() {
        // ONNX [out=1][in=2][k=3] = in0: 1 2 3, in1: 4 5 6 → [out][tap][in] = 1 4 2 5 3 6.
        let w = ModelWeights.Convolution(
            onnxWeights: [1, 2, 3, 4, 5, 6], outputs: 1, inputs: 2, kernel: 3, scale: [1], shift: [0])
        #expect(w.weights == [1, 4, 2, 5, 3, 6])
    }

    @Test func leavesOutTheFinalSigmoidOfAGraphThatOutputsProbabilities() throws {
        let logitEnded = try CompiledModel(contentsOf: Fixtures.path("tiny.onnx"))
        let sigmoidEnded = try CompiledModel(contentsOf: Fixtures.path("tiny_sigmoid.onnx"))
        #expect(!logitEnded.graphOutputsProbabilities && sigmoidEnded.graphOutputsProbabilities)
        #expect(sigmoidEnded.plan.layers.count == logitEnded.plan.layers.count)
        #expect(sigmoidEnded.plan.summary.dropLast() == logitEnded.plan.summary[...])
        guard case .dense(_, _, _, let activation) = try #require(sigmoidEnded.plan.layers.last) else {
            Issue.record("the plan should end in the dense layer")
            return
        }
        #expect(activation == .identity)
    }

    @Test(arguments: Fixtures.cases.filter { $0.probabilities != nil })
    func sigmoidAndLogitEndedExportsGiveTheSameLogits(_ fixture: Fixtures.Case) throws {
        let input = Array(try Fixtures.floats(fixture.input).prefix(fixture.batch * 12 * fixture.time))
        func logits(_ name: String) throws -> [Float] {
            let engine = PlanExecutor(
                model: try CompiledModel(contentsOf: Fixtures.path(name)), maxBatch: fixture.batch,
                maxTimeSamples: fixture.time)
            return try engine.logits(for: input, batch: fixture.batch, timeSamples: fixture.time)
        }
        let fromSigmoidEnded = try logits(fixture.model)
        #expect(fromSigmoidEnded == (try logits("tiny.onnx")))
        // One sigmoid on the engine's logits gives what ONNX Runtime computed with the graph's own Sigmoid.
        let probabilities = try Fixtures.floats(try #require(fixture.probabilities))
        let worst = zip(fromSigmoidEnded, probabilities).map { abs(1 / (1 + expf(-$0)) - $1) }.max() ?? .infinity
        #expect(probabilities.count == fromSigmoidEnded.count && worst <= 1e-6, "max |Δp| \(worst)")
    }
}
