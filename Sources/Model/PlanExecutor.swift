/// Runs a compiled model on windows: the ``ModelPlan``'s fused layers in order, over a workspace it owns.
///
/// The network is not spelled out here: the ONNX graph (IncepSE, as exported from training) compiles to a
/// fixed list of fused layers, and this executes whatever list the plan holds, so the forward pass reads as
/// the plan's dump (``ModelPlan/summary``, printed by `ecg-monitor run --print-plan`) rather than as code.
///
/// One instance per inference worker (not `Sendable`); the ``CompiledModel`` it runs is shared. Call
/// `BLAS.threads = 1` once before starting several workers.
public final class PlanExecutor {
    /// The model this engine runs.
    public let model: CompiledModel
    private let workspace: Workspace

    /// The largest batch ``forward(_:batch:timeSamples:into:)`` accepts.
    public var maxBatch: Int { workspace.maxBatch }
    /// The longest window ``forward(_:batch:timeSamples:into:)`` accepts.
    public var maxTimeSamples: Int { workspace.maxTime }

    /// Allocates the workspace for batches of up to `maxBatch` windows of up to `maxTimeSamples` samples.
    ///
    /// - Important: both sizes must be at least 1 (a programmer error otherwise).
    public init(model: CompiledModel, maxBatch: Int, maxTimeSamples: Int) {
        self.model = model
        self.workspace = Workspace(
            plan: model.plan, weights: model.weights, maxBatch: maxBatch, maxTime: maxTimeSamples)
    }

    /// An engine with explicit block sizes, for tests and tuning: `passColumns` samples (`windows · time`) per
    /// pass, and at most `im2colColumns` output samples of one window per block of shifted input copies (the
    /// buffer the longer kernels read in place of an im2col buffer); the other initializer uses sizes measured on
    /// the target machines.
    ///
    /// - Important: all sizes must be at least 1 (a programmer error otherwise).
    public init(model: CompiledModel, maxBatch: Int, maxTimeSamples: Int, passColumns: Int, im2colColumns: Int) {
        self.model = model
        self.workspace = Workspace(
            plan: model.plan, weights: model.weights, maxBatch: maxBatch, maxTime: maxTimeSamples,
            passColumns: passColumns, blockColumns: im2colColumns)
    }

    /// Checks that a batch fits this engine and the model, naming the problem if not.
    ///
    /// - Throws: ``ModelError/badInput(reason:)``.
    public func validate(batch: Int, timeSamples: Int) throws(ModelError) {
        guard batch >= 1, batch <= maxBatch else {
            throw .badInput(reason: "batch \(batch) is outside 1...\(maxBatch)")
        }
        guard timeSamples >= 1, timeSamples <= maxTimeSamples else {
            throw .badInput(reason: "window of \(timeSamples) samples is outside 1...\(maxTimeSamples)")
        }
        if let fixed = model.plan.fixedTime, fixed != timeSamples {
            throw .badInput(reason: "the model's graph fixes the window at \(fixed) samples, got \(timeSamples)")
        }
        if let fixed = model.plan.fixedBatch, fixed != batch {
            throw .badInput(reason: "the model's graph fixes the batch at \(fixed), got \(batch)")
        }
    }

    /// Computes logits for `windows`, checking the sizes first.
    ///
    /// - Parameter windows: `[batch][leads][timeSamples]` row-major.
    /// - Returns: `[batch][classes]` row-major.
    /// - Throws: ``ModelError/badInput(reason:)`` if the sizes do not fit or a sample is NaN or infinite.
    public func logits(for windows: [Float], batch: Int, timeSamples: Int) throws(ModelError) -> [Float] {
        try validate(batch: batch, timeSamples: timeSamples)
        let expected = batch * model.plan.inputChannels * timeSamples
        guard windows.count == expected else {
            throw .badInput(reason: "\(windows.count) samples given, \(expected) expected")
        }
        if let bad = windows.firstIndex(where: { !$0.isFinite }) {
            throw .badInput(reason: "sample \(bad) is \(windows[bad]); samples must be finite")
        }
        var result = [Float](repeating: 0, count: batch * model.plan.outputCount)
        windows.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { output in
                if let i = input.baseAddress, let o = output.baseAddress {
                    forward(i, batch: batch, timeSamples: timeSamples, into: o)
                }
            }
        }
        return result
    }

    /// Classifies windows. Allocates nothing.
    ///
    /// - Parameters:
    ///   - windows: `[batch][leads][timeSamples]` row-major, preprocessed samples.
    ///   - logits: `[batch][classes]` row-major; overwritten.
    /// - Important: the sizes must pass ``validate(batch:timeSamples:)`` (checked with preconditions).
    public func forward(
        _ windows: UnsafePointer<Float>, batch: Int, timeSamples: Int, into logits: UnsafeMutablePointer<Float>
    ) {
        precondition(batch >= 1 && batch <= maxBatch && timeSamples >= 1 && timeSamples <= maxTimeSamples)
        let plan = model.plan
        let perPass = workspace.windowsPerPass(time: timeSamples)
        var start = 0
        while start < batch {
            let windowCount = min(perPass, batch - start)
            pass(
                windows + start * plan.inputChannels * timeSamples, windows: windowCount, time: timeSamples,
                into: logits + start * plan.outputCount)
            start += windowCount
        }
    }

    /// Runs every layer on up to one pass's windows.
    private func pass(
        _ input: UnsafePointer<Float>, windows: Int, time: Int, into logits: UnsafeMutablePointer<Float>
    ) {
        let ws = workspace
        let plan = model.plan
        let columns = windows * time
        let x = ws.sequence(plan.input, columns: columns)
        for w in 0..<windows {
            for c in 0..<plan.inputChannels {
                (x + c * columns + w * time).update(from: input + (w * plan.inputChannels + c) * time, count: time)
            }
        }
        for layer in plan.layers {
            switch layer {
            case .convolutions(let group):
                convolutions(group, windows: windows, time: time)
            case .maxPool(let input, let output, let kernel, let padLeft):
                Layers.maxPool1d(
                    into: ws.sequence(output, columns: columns), from: ws.sequence(input, columns: columns),
                    channels: input.channels, yStride: columns, xStride: columns, windows: windows, time: time,
                    kernel: kernel, padLeft: padLeft)
            case .add(let a, let b, let output, let relu):
                Layers.add(
                    into: ws.sequence(output, columns: columns), ws.sequence(a, columns: columns),
                    ws.sequence(b, columns: columns), rows: a.channels, columns: columns, yStride: columns,
                    aStride: columns, bStride: columns, relu: relu)
            case .sequenceActivation(let input, let output, let function):
                Layers.activation(
                    into: ws.sequence(output, columns: columns), from: ws.sequence(input, columns: columns),
                    rows: input.channels, columns: columns, yStride: columns, xStride: columns, function)
            case .copy(let input, let output):
                ws.sequence(output, columns: columns).update(
                    from: ws.sequence(input, columns: columns), count: input.channels * columns)
            case .timeMean(let input, let output, let rectified):
                Layers.timeMean(
                    into: ws.vector(output), from: ws.sequence(input, columns: columns), channels: input.channels,
                    xStride: columns, windows: windows, time: time, rectified: rectified)
            case .dense(let input, let output, let index, let function):
                Layers.dense(
                    into: ws.vector(output), from: ws.vector(input), windows: windows, inputs: input.channels,
                    outputs: output.channels, weights: ws.denseWeights[index], bias: ws.denseBias[index], function)
            case .vectorActivation(let input, let output, let function):
                Layers.activation(
                    into: ws.vector(output), from: ws.vector(input), rows: windows, columns: input.channels,
                    yStride: input.channels, xStride: input.channels, function)
            case .gate(let gate):
                var residual: UnsafeMutablePointer<Float>?
                if let sum = gate.residual { residual = ws.sequence(sum, columns: columns) }
                var pooled: UnsafeMutablePointer<Float>?
                if let pool = gate.pool { pooled = ws.sequence(pool.output, columns: columns) }
                Layers.gate(
                    into: ws.sequence(gate.output, columns: columns), from: ws.sequence(gate.input, columns: columns),
                    gates: ws.vector(gate.gates), residual: residual, pooled: pooled, channels: gate.input.channels,
                    rowStride: columns, windows: windows, time: time, rectified: gate.rectified, relu: gate.relu,
                    poolKernel: gate.pool?.kernel ?? 1, poolPadLeft: gate.pool?.padLeft ?? 0)
            }
        }
        logits.update(from: ws.vector(plan.output), count: windows * plan.outputCount)
    }

    /// One group of convolutions sharing an input: 1×1 kernels multiply the input directly; longer kernels read
    /// one buffer of shifted input copies, built once per block of a window and read by one product per run of taps.
    ///
    /// Outputs with a bias start as the bias and the products add to them; ReLU follows in a separate pass.
    private func convolutions(_ group: ConvolutionGroup, windows: Int, time: Int) {
        let ws = workspace
        let columns = windows * time
        let cin = group.input.channels
        let x = ws.sequence(group.input, columns: columns)
        for conv in group.convolutions where conv.kernel == 1 {
            let y = ws.sequence(conv.output, columns: columns)
            if conv.hasBias {
                Layers.fill(
                    y, rowStride: columns, rows: conv.output.channels, columns: columns,
                    with: ws.convolutionBias[conv.weights])
            }
            BLAS.multiply(
                m: conv.output.channels, n: columns, k: cin, ws.convolutionWeights[conv.weights],
                lda: conv.output.channels, transposingA: true,
                x, ldb: columns, into: y, ldc: columns, accumulate: conv.hasBias)
            if conv.relu {
                Layers.activation(
                    into: y, from: y, rows: conv.output.channels, columns: columns, yStride: columns, xStride: columns,
                    .relu)
            }
        }
        guard group.spanTaps > 0 else { return }
        // Blocks never cross a window: the copies' zero padding belongs to one window.
        let blockCount = (time + ws.blockColumns - 1) / ws.blockColumns
        let blockColumns = (time + blockCount - 1) / blockCount
        for w in 0..<windows {
            var start = 0
            while start < time {
                let block = min(blockColumns, time - start)
                let width = block + group.spanTaps - 1
                let first = w * time + start
                Layers.shiftedCopies(
                    into: ws.shifted, width: width, from: x + w * time, channels: cin, rowStride: columns, time: time,
                    start: start, copies: group.shiftCopies, spanLeft: group.spanLeft)
                for conv in group.convolutions where conv.kernel > 1 {
                    Layers.fill(
                        ws.sequence(conv.output, columns: columns) + first, rowStride: columns,
                        rows: conv.output.channels, columns: block,
                        with: conv.hasBias ? ws.convolutionBias[conv.weights] : nil)
                }
                for product in group.blocks {
                    let samples = product.samples(reachingTheWindowAmong: start..<(start + block), time: time)
                    guard !samples.isEmpty else { continue }
                    let skipped = samples.lowerBound - start
                    BLAS.multiply(
                        m: product.output.channels, n: samples.count, k: product.taps * cin,
                        ws.blockWeights[product.weights], lda: product.output.channels, transposingA: true,
                        ws.shifted + product.firstTap + skipped, ldb: width,
                        into: ws.sequence(product.output, columns: columns) + first + skipped, ldc: columns,
                        accumulate: true)
                }
                for conv in group.convolutions where conv.kernel > 1 && conv.relu {
                    let y = ws.sequence(conv.output, columns: columns) + first
                    Layers.activation(
                        into: y, from: y, rows: conv.output.channels, columns: block, yStride: columns,
                        xStride: columns, .relu)
                }
                start += block
            }
        }
    }
}
