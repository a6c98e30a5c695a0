import Glibc

/// What one stream carries between hops through a ``StreamingModel``: the last inputs of every max pool, the
/// last bottleneck outputs every causal convolution reads, and the sums of every running mean.
///
/// A fixed size, allocated once when the stream starts; ``reset()`` starts the stream over.
public final class StreamingState {
    /// Samples of the stream processed so far.
    public private(set) var samplesSeen = 0
    /// The running means' shared normaliser `Z = d·Z + 1` (it depends only on the samples seen).
    var weight: Float = 0
    /// Per module: its input's last two samples `[inputs][2]`, for the causal max pool of 3.
    var poolTails: [[Float]]
    /// Per module: the bottleneck's last `span − 1` outputs `[bottleneck][span − 1]`.
    var convolutionTails: [[Float]]
    /// Per module, then the head: the running sums `S = d·S + x` of each output channel.
    var sums: [[Float]]

    /// A stream at its first sample for `model`.
    public init(model: StreamingModel) {
        poolTails = model.modules.map { [Float](repeating: -.infinity, count: $0.inputs * 2) }
        convolutionTails = model.modules.map {
            [Float](repeating: 0, count: $0.bottleneck.outputs * ($0.span - 1))
        }
        sums =
            model.modules.map { [Float](repeating: 0, count: $0.width) } + [
                [Float](repeating: 0, count: model.head.inputs)
            ]
    }

    /// Forgets every sample: the state of a stream that has not started.
    public func reset() {
        samplesSeen = 0
        weight = 0
        for index in poolTails.indices { poolTails[index].update(repeating: -.infinity) }
        for index in convolutionTails.indices { convolutionTails[index].update(repeating: 0) }
        for index in sums.indices { sums[index].update(repeating: 0) }
    }

    /// Bytes of the state's numbers (the stream's share of the executor's memory).
    public var byteCount: Int {
        4
            * (poolTails.reduce(0) { $0 + $1.count } + convolutionTails.reduce(0) { $0 + $1.count }
                + sums.reduce(0) { $0 + $1.count })
    }

    fileprivate func advance(by samples: Int) { samplesSeen += samples }
}

extension Array where Element == Float {
    fileprivate mutating func update(repeating value: Float) {
        for index in indices { self[index] = value }
    }
}

/// Runs a ``StreamingModel`` one hop at a time for many streams at once: each layer computes only the hop's new
/// samples of every stream, in one matrix product per layer, reading what came before from each stream's
/// ``StreamingState``.
///
/// The logits after a hop equal those of the model's full-sequence graph on the stream's whole prefix (to float
/// rounding: the tests hold them to ONNX Runtime within 1e-4), however the stream was cut into hops. Buffers are
/// allocated once for `maxStreams` streams of `maxSamples` samples per call; a call allocates nothing.
/// Not thread-safe: one executor per inference worker.
public final class StreamingExecutor {
    public let model: StreamingModel
    /// The most streams one call may advance.
    public let maxStreams: Int
    /// The most samples one call may advance each stream by.
    public let maxSamples: Int

    /// Samples (streams × new samples) one pass through the layers holds: its activations stay in cache.
    public let passColumns: Int
    private let input: UnsafeMutablePointer<Float>
    private let ping: UnsafeMutablePointer<Float>
    private let pong: UnsafeMutablePointer<Float>
    private let residual: UnsafeMutablePointer<Float>
    private let pooled: UnsafeMutablePointer<Float>
    private let bottleneck: UnsafeMutablePointer<Float>
    private let shifted: UnsafeMutablePointer<Float>
    private let means: UnsafeMutablePointer<Float>
    private let hidden: UnsafeMutablePointer<Float>
    /// Per column of a pass: `1 / Z` of its stream at that sample.
    private let inverseWeights: UnsafeMutablePointer<Float>
    /// `d^(maxSamples − 1 − i)` at i: from `maxSamples − samples` on, the weights of a hop's samples in its last
    /// running sum, which the head reads.
    private let lastSumWeights: UnsafeMutablePointer<Float>
    /// `d^(t + 1)`: how much of the sums before the hop remains at its sample t.
    private let decayPowers: UnsafeMutablePointer<Float>
    private let headMeans: UnsafeMutablePointer<Float>
    /// One channel of one stream: its convolution tail followed by the hop's new bottleneck outputs.
    private let extended: UnsafeMutablePointer<Float>
    private var allocations: [UnsafeMutablePointer<Float>] = []

    /// An executor for calls of up to `maxStreams` streams × `maxSamples` new samples each.
    ///
    /// - Parameter passColumns: The samples of one pass through the layers: a call runs its streams in groups of
    ///   `passColumns / samples` (at least one). Measured on a 2-core Xeon (Cooper Lake) at 50-sample hops:
    ///   400 columns ran 1.7× faster than 3,200, whose shifted copies no longer fit in cache.
    public init(model: StreamingModel, maxStreams: Int, maxSamples: Int, passColumns: Int = 512) {
        precondition(maxStreams >= 1 && maxSamples >= 1 && passColumns >= 1)
        self.model = model
        self.maxStreams = maxStreams
        self.maxSamples = maxSamples
        self.passColumns = passColumns
        // a call of `samples` new samples runs passes of `max(1, passColumns / samples)` streams: the widest pass,
        // over every `samples` up to `maxSamples`, holds at most this many streams and columns
        let streamsPerPass = min(maxStreams, passColumns)
        let columns = min(maxStreams * maxSamples, max(passColumns, maxSamples))
        let widest = model.modules.reduce(model.leadCount) { max($0, $1.width, $1.inputs) }
        let bottleneckRows = model.modules.map(\.bottleneck.outputs).max() ?? 1
        let shiftedRows = model.modules.map { $0.bottleneck.outputs * $0.span }.max() ?? 1
        let hiddenRows = model.modules.map(\.squeeze.outputs).max() ?? 1
        var allocations: [UnsafeMutablePointer<Float>] = []
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            allocations.append(pointer)
            return pointer
        }
        input = buffer(model.leadCount * columns)
        ping = buffer(widest * columns)
        pong = buffer(widest * columns)
        residual = buffer(widest * columns)
        pooled = buffer(widest * columns)
        bottleneck = buffer(bottleneckRows * columns)
        shifted = buffer(shiftedRows * columns)
        means = buffer(widest * columns)
        hidden = buffer(hiddenRows * columns)
        inverseWeights = buffer(columns)
        lastSumWeights = buffer(maxSamples)
        decayPowers = buffer(maxSamples)
        let decay = Double(model.decay)
        for t in 0..<maxSamples {
            decayPowers[t] = Float(pow(decay, Double(t + 1)))
            lastSumWeights[t] = Float(pow(decay, Double(maxSamples - 1 - t)))
        }
        headMeans = buffer(streamsPerPass * model.head.inputs)
        extended = buffer((model.modules.map(\.span).max() ?? 1) - 1 + maxSamples)
        self.allocations = allocations
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }

    /// Advances every stream by its next `samples` samples and writes the logits at the last of them.
    ///
    /// - Parameters:
    ///   - states: One state per stream, each advanced in place; a state appears at most once.
    ///   - samples: New samples per stream, `1...maxSamples`.
    ///   - input: `[states.count][leads][samples]` row-major, preprocessed as the model's metadata says.
    ///   - logits: `[states.count][classes]`, overwritten.
    /// - Throws: ``ModelError/badInput(reason:)`` when the call exceeds the executor's sizes.
    public func advance(
        _ states: [StreamingState],
        samples: Int,
        input source: UnsafePointer<Float>,
        logits: UnsafeMutablePointer<Float>
    ) throws(ModelError) {
        let streams = states.count
        guard streams >= 1, streams <= maxStreams, samples >= 1, samples <= maxSamples else {
            throw .badInput(
                reason:
                    "\(streams) streams × \(samples) samples; this executor takes 1...\(maxStreams) × 1...\(maxSamples)"
            )
        }
        let group = max(1, passColumns / samples)
        let leads = model.leadCount
        for first in stride(from: 0, to: streams, by: group) {
            let last = min(streams, first + group)
            pass(
                states[first..<last], samples: samples, input: source + first * leads * samples,
                logits: logits + first * model.classCount)
        }
        for state in states { state.advance(by: samples) }
    }

    /// One pass through the layers for a group of streams that fits the buffers.
    private func pass(
        _ states: ArraySlice<StreamingState>,
        samples: Int,
        input source: UnsafePointer<Float>,
        logits: UnsafeMutablePointer<Float>
    ) {
        let streams = states.count
        let width = streams * samples
        let leads = model.leadCount
        for stream in 0..<streams {
            for lead in 0..<leads {
                (input + lead * width + stream * samples).update(
                    from: source + (stream * leads + lead) * samples, count: samples)
            }
        }
        for (stream, state) in states.enumerated() {
            var weight = state.weight
            for t in 0..<samples {
                weight = model.decay * weight + 1
                inverseWeights[stream * samples + t] = 1 / weight
            }
            state.weight = weight
        }

        var x = UnsafeMutablePointer(mutating: input)
        var output = ping
        var spare = pong
        residual.update(from: input, count: leads * width)
        var residualChannels = leads
        for (index, module) in model.modules.enumerated() {
            run(module, index: index, states: states, samples: samples, x: x, into: output)
            if index % model.residualEvery == model.residualEvery - 1 {
                let shortcut = model.shortcuts[index / model.residualEvery]
                addShortcut(shortcut, from: residual, channels: residualChannels, into: output, columns: width)
                residual.update(from: output, count: module.width * width)
                residualChannels = module.width
            }
            x = output
            swap(&output, &spare)
        }
        readHead(states: states, samples: samples, x: x, logits: logits)
    }

    /// One module and its gate over the hop: `x` `[inputs][width]` → `y` `[module.width][width]`.
    private func run(
        _ module: StreamingModel.Module,
        index: Int,
        states: ArraySlice<StreamingState>,
        samples: Int,
        x: UnsafeMutablePointer<Float>,
        into y: UnsafeMutablePointer<Float>
    ) {
        let width = states.count * samples
        let inputs = module.inputs
        let filters = module.bottleneck.outputs
        let history = module.span - 1
        // bottleneck: one product over every stream's new samples
        product(module.bottleneck.weights, rows: filters, depth: inputs, x, into: bottleneck, columns: width)
        // shifted copies: row `tap · filters + c`, column `s · samples + t` holds the bottleneck output of stream s
        // `span − 1 − tap` samples before its new sample t (from the stream's tail where that precedes the hop)
        for (stream, state) in states.enumerated() {
            state.convolutionTails[index].withUnsafeMutableBufferPointer { tail in
                for c in 0..<filters {
                    // tail and hop side by side, so that each tap's row is one copy of `samples` values
                    let past = tail.baseAddress! + c * history
                    extended.update(from: past, count: history)
                    (extended + history).update(from: bottleneck + c * width + stream * samples, count: samples)
                    for tap in 0..<module.span {
                        (shifted + (tap * filters + c) * width + stream * samples).update(
                            from: extended + tap, count: samples)
                    }
                    // the tail for the next hop: the last `history` bottleneck outputs
                    past.update(from: extended + samples, count: history)
                }
            }
        }
        // the causal convolutions: kernel k reads the last k taps of the shifted copies, by runs of taps shared
        // by the same kernels
        var channel = 0
        for branch in module.branches {
            Layers.fill(y + channel * width, rowStride: width, rows: branch.outputs, columns: width, with: branch.bias)
            channel += branch.outputs
        }
        for block in module.blocks {
            block.weights.withUnsafeBufferPointer { w in
                BLAS.multiply(
                    m: block.outputs, n: width, k: block.taps * filters, w.baseAddress!, lda: block.taps * filters,
                    shifted + block.firstTap * filters * width, ldb: width, into: y, ldc: width, accumulate: true)
            }
        }
        // the causal max pool of 3 over the input, then its 1×1 convolution
        for (stream, state) in states.enumerated() {
            state.poolTails[index].withUnsafeMutableBufferPointer { tails in
                for c in 0..<inputs {
                    let source = x + c * width + stream * samples
                    let target = pooled + c * width + stream * samples
                    var (older, old) = (tails[2 * c], tails[2 * c + 1])
                    for t in 0..<samples {
                        let value = source[t]
                        target[t] = max(older, old, value)
                        (older, old) = (old, value)
                    }
                    (tails[2 * c], tails[2 * c + 1]) = (older, old)
                }
            }
        }
        let pool = module.pool
        product(
            pool.weights, rows: pool.outputs, depth: inputs, pooled, into: y + channel * width, columns: width,
            bias: pool.bias)
        Layers.activation(into: y, from: y, rows: module.width, columns: width, yStride: width, xStride: width, .relu)
        gate(module, index: index, states: states, samples: samples, y: y)
    }

    /// The squeeze-and-excitation gate at every new sample, from the running mean of the module output.
    private func gate(
        _ module: StreamingModel.Module,
        index: Int,
        states: ArraySlice<StreamingState>,
        samples: Int,
        y: UnsafeMutablePointer<Float>
    ) {
        let width = states.count * samples
        let channels = module.width
        runningMeans(of: y, channels: channels, sums: index, states: states, samples: samples, into: means)
        let squeeze = module.squeeze
        let excite = module.excite
        product(
            squeeze.weights, rows: squeeze.outputs, depth: channels, means, into: hidden, columns: width,
            bias: squeeze.bias)
        Layers.activation(
            into: hidden, from: hidden, rows: squeeze.outputs, columns: width, yStride: width, xStride: width, .relu)
        product(
            excite.weights, rows: channels, depth: squeeze.outputs, hidden, into: means, columns: width,
            bias: excite.bias)
        for c in 0..<channels {
            let row = y + c * width
            let gates = means + c * width
            Layers.multiplyBySigmoid(row, gates: gates, count: width)
        }
    }

    /// `m = S / Z` at every new sample of every stream, carrying each stream's sums `S = d·S + x` in its state.
    ///
    /// The recurrence runs sample by sample, eight channels at once so that eight independent chains of
    /// multiply-adds overlap. It replaced the hop's sums as one triangular product with a decay kernel, which cost
    /// a `samples × samples` product per stream and module: the executor ran 1.04–1.07× the hops per CPU second
    /// without it. A contraction (d < 1), so rounding cannot build up over a long stream.
    private func runningMeans(
        of x: UnsafeMutablePointer<Float>,
        channels: Int,
        sums index: Int,
        states: ArraySlice<StreamingState>,
        samples: Int,
        into target: UnsafeMutablePointer<Float>
    ) {
        let width = states.count * samples
        let decay = model.decay
        for (stream, state) in states.enumerated() {
            let column = stream * samples
            let inverse = inverseWeights + column
            state.sums[index].withUnsafeMutableBufferPointer { sums in
                var c = 0
                while c + 8 <= channels {
                    let rows = x + c * width + column
                    let out = target + c * width + column
                    var sum = SIMD8<Float>(sums[c..<c + 8])
                    for t in 0..<samples {
                        var value = SIMD8<Float>()
                        for lane in 0..<8 { value[lane] = rows[lane * width + t] }
                        sum = sum * decay + value
                        let mean = sum * inverse[t]
                        for lane in 0..<8 { out[lane * width + t] = mean[lane] }
                    }
                    for lane in 0..<8 { sums[c + lane] = sum[lane] }
                    c += 8
                }
                while c < channels {
                    let row = x + c * width + column
                    let out = target + c * width + column
                    var sum = sums[c]
                    for t in 0..<samples {
                        sum = sum * decay + row[t]
                        out[t] = sum * inverse[t]
                    }
                    sums[c] = sum
                    c += 1
                }
            }
        }
    }

    /// `y = relu(y + shortcut(block input))`.
    private func addShortcut(
        _ shortcut: ModelWeights.Convolution,
        from blockInput: UnsafeMutablePointer<Float>,
        channels: Int,
        into y: UnsafeMutablePointer<Float>,
        columns width: Int
    ) {
        product(
            shortcut.weights, rows: shortcut.outputs, depth: channels, blockInput, into: y, columns: width,
            bias: shortcut.bias, adding: true)
        Layers.activation(
            into: y, from: y, rows: shortcut.outputs, columns: width, yStride: width, xStride: width, .relu)
    }

    /// `y = W·x + bias` (or `y += W·x + bias` when `adding`) over `columns` columns: `W` `[rows][depth]`, `x`
    /// `[depth][columns]`, `y` `[rows][columns]`, all with row stride `columns`.
    private func product(
        _ weights: [Float],
        rows: Int,
        depth: Int,
        _ x: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>,
        columns: Int,
        bias: [Float]? = nil,
        adding: Bool = false
    ) {
        if let bias, adding {
            for o in 0..<rows {
                let row = y + o * columns
                for j in 0..<columns { row[j] += bias[o] }
            }
        } else if let bias {
            Layers.fill(y, rowStride: columns, rows: rows, columns: columns, with: bias)
        }
        weights.withUnsafeBufferPointer { w in
            BLAS.multiply(
                m: rows, n: columns, k: depth, w.baseAddress!, lda: depth, x, ldb: columns, into: y, ldc: columns,
                accumulate: adding || bias != nil)
        }
    }

    /// The head on the running mean of the last module's output, at each stream's last new sample.
    private func readHead(
        states: ArraySlice<StreamingState>,
        samples: Int,
        x: UnsafeMutablePointer<Float>,
        logits: UnsafeMutablePointer<Float>
    ) {
        let head = model.head
        let width = states.count * samples
        let slot = model.modules.count
        for (stream, state) in states.enumerated() {
            let column = stream * samples
            let means = headMeans + stream * head.inputs
            // only the last sample's sum is read: one product with `d^(samples − 1 − i)`
            BLAS.multiply(
                m: head.inputs, n: 1, k: samples, x + column, lda: width, lastSumWeights + maxSamples - samples,
                ldb: 1, into: means, ldc: 1)
            let inverse = inverseWeights[column + samples - 1]
            state.sums[slot].withUnsafeMutableBufferPointer { sums in
                for c in 0..<head.inputs {
                    sums[c] = means[c] + sums[c] * decayPowers[samples - 1]
                    means[c] = sums[c] * inverse
                }
            }
        }
        for stream in 0..<states.count {
            (logits + stream * head.outputs).update(from: head.bias, count: head.outputs)
        }
        head.weights.withUnsafeBufferPointer { w in
            BLAS.multiply(
                m: states.count, n: head.outputs, k: head.inputs, headMeans, lda: head.inputs, w.baseAddress!,
                ldb: head.inputs, transposingB: true, into: logits, ldc: head.outputs, accumulate: true)
        }
    }
}
