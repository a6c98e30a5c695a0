/// Where a sequence activation `[channels][batch·time]` lives: a workspace slot and a channel range inside it.
struct SequenceRef: Sendable, Equatable {
    /// The sequence slot of the ``Workspace``.
    var slot: Int
    /// The first channel of this tensor inside the slot (concatenation writes each branch into its own range).
    var channelOffset: Int
    /// The number of channels.
    var channels: Int
}

/// Where a per-window vector activation `[batch][channels]` lives in the workspace.
struct VectorRef: Sendable, Equatable {
    /// The vector slot of the ``Workspace``.
    var slot: Int
    /// The number of channels.
    var channels: Int
}

/// An elementwise function applied after a layer.
enum Activation: Sendable, Equatable {
    case identity
    case relu
    case sigmoid
}

/// One length-preserving convolution inside a ``ConvolutionGroup``.
struct ConvolutionSpec: Sendable, Equatable {
    /// Where the output goes (a channel range, so that concatenated branches need no copy).
    var output: SequenceRef
    /// The kernel length in samples.
    var kernel: Int
    /// Zero samples added before the input; `kernel - 1 - padLeft` are added after.
    var padLeft: Int
    /// Whether a ReLU follows (fused).
    var relu: Bool
    /// Whether the bias is non-zero: the output is then filled with it before the products add to it (OpenBLAS
    /// would otherwise clear it first, an extra pass).
    var hasBias: Bool
    /// Index into ``ModelWeights/convolutions``.
    var weights: Int
}

/// One matrix product of a ``ConvolutionGroup``: a run of adjacent taps times the stacked weights of every
/// convolution whose window covers exactly those taps.
///
/// The product reads the group's shifted input copies at a column offset of `firstTap` (see
/// ``ConvolutionGroup``), so no product needs a copy of its own. Grouping the union window's taps by which kernels
/// cover them stacks the kernels that share taps into one taller product, and lets each tap be multiplied once.
struct ConvolutionBlock: Sendable, Equatable {
    /// The first tap of the run (0 = `spanLeft` samples before the output sample), which is also the column
    /// offset at which the product reads the shifted copies.
    var firstTap: Int
    /// The number of taps (`K = taps · C`); at most ``ConvolutionGroup/shiftCopies``.
    var taps: Int
    /// Where the stacked outputs go: adjacent channel ranges of the convolutions, in channel order. Products add
    /// to the output, which starts as the bias.
    var output: SequenceRef
    /// Index into ``ModelWeights/blocks``: `[output.channels][taps · C]`, tap-major.
    var weights: Int
    /// `spanLeft` of the group: tap `firstTap + p` of output sample `t` reads input sample
    /// `t + firstTap + p − spanLeft`.
    var spanLeft: Int

    /// The output samples among `samples` for which some tap of this product reads a sample of the window
    /// (`0 ..< time`); the others read only zero padding and get nothing from the product, so it skips them.
    func samples(reachingTheWindowAmong samples: Range<Int>, time: Int) -> Range<Int> {
        let lowest = max(samples.lowerBound, spanLeft - firstTap - taps + 1)
        let highest = min(samples.upperBound, time + spanLeft - firstTap)
        return lowest < highest ? lowest..<highest : samples.lowerBound..<samples.lowerBound
    }
}

/// Convolutions reading the same input: kernels longer than 1 share one buffer of shifted input copies.
///
/// For a block of `n` output samples of one window, row `p · C + channel` of that buffer holds the input channel
/// shifted by `p` taps, `n + spanTaps - 1` samples long (zero outside the window), for `p < shiftCopies`. A
/// ``ConvolutionBlock`` over taps `[a, a + k)` is then the product of its weights with the first `k · C` rows read
/// from column `a` on: a matrix with row stride `n + spanTaps - 1`. The copies hold `shiftCopies` shifts instead
/// of an im2col buffer's one per tap.
struct ConvolutionGroup: Sendable, Equatable {
    var input: SequenceRef
    var convolutions: [ConvolutionSpec]
    /// The products computing the convolutions with kernels longer than 1, in order.
    var blocks: [ConvolutionBlock]
    /// The shifted copies of the input the products read: the most taps of any block (0 if every kernel is 1).
    var shiftCopies: Int
    /// Samples before the output sample covered by the widest window (0 if every kernel is 1).
    var spanLeft: Int
    /// Total taps of the shared window (0 if every kernel is 1).
    var spanTaps: Int
}

/// One step of the forward pass; the network is a fixed list of these, compiled once from the ONNX graph.
enum FusedLayer: Sendable, Equatable {
    /// Convolutions (bias and BatchNorm folded, ReLU fused) that share an input.
    case convolutions(ConvolutionGroup)
    /// Stride-1 max pooling that keeps the length; padding never wins the maximum.
    case maxPool(input: SequenceRef, output: SequenceRef, kernel: Int, padLeft: Int)
    /// Elementwise sum of two sequences, then an optional ReLU (residual connections).
    case add(SequenceRef, SequenceRef, output: SequenceRef, relu: Bool)
    /// An elementwise function on a sequence.
    case sequenceActivation(input: SequenceRef, output: SequenceRef, Activation)
    /// A channel-range copy, for a concatenated tensor that could not be written in place.
    case copy(input: SequenceRef, output: SequenceRef)
    /// The mean over time of every channel of every window; `rectified`: of `max(input, 0)` (a deferred ReLU).
    case timeMean(input: SequenceRef, output: VectorRef, rectified: Bool)
    /// `output = activation(W · input + b)` per window.
    case dense(input: VectorRef, output: VectorRef, weights: Int, Activation)
    /// An elementwise function on a vector.
    case vectorActivation(input: VectorRef, output: VectorRef, Activation)
    /// Squeeze-and-excitation gating, with the residual sum and max pooling that follow it fused in.
    case gate(ChannelGate)
}

/// `output[c][t] = input[c][t] · gates[c]` per window (squeeze-and-excitation), then optionally a residual sum, a
/// ReLU, and the max pooling of the result, all in one pass over the rows while they are in cache.
struct ChannelGate: Sendable, Equatable {
    /// A max pooling of the output (the next module's pool branch), written alongside it.
    struct Pool: Sendable, Equatable {
        var output: SequenceRef
        var kernel: Int
        var padLeft: Int
    }

    var input: SequenceRef
    var gates: VectorRef
    var output: SequenceRef
    /// Gates `max(input, 0)` (a deferred ReLU).
    var rectified: Bool
    /// Added to the gated values (a residual connection).
    var residual: SequenceRef?
    /// Whether a ReLU follows the gating (and the residual sum).
    var relu: Bool
    var pool: Pool?
}

/// The network as a fixed list of fused layers with every buffer placed, compiled once from an ONNX graph.
///
/// A graph the compiler cannot map onto these layers exactly is refused with the operator, node or tensor named;
/// it is never approximated.
public struct ModelPlan: Sendable {
    /// Input channels (leads) the graph takes.
    public let inputChannels: Int
    /// Logits the graph produces per window.
    public let outputCount: Int
    /// The batch size the graph fixes, or nil if dynamic.
    public let fixedBatch: Int?
    /// The window length the graph fixes, or nil if dynamic.
    public let fixedTime: Int?
    /// Whether the graph ended in a Sigmoid (its output was probabilities) that the plan leaves out, so that the
    /// plan's output is always logits.
    public let droppedFinalSigmoid: Bool
    let layers: [FusedLayer]
    /// Where the input windows are copied before the first layer.
    let input: SequenceRef
    /// Where the logits are after the last layer.
    let output: VectorRef
    /// Sequence slots the workspace must hold, each `sequenceSlotChannels` channels deep.
    let sequenceSlotCount: Int
    let sequenceSlotChannels: Int
    /// Vector slots the workspace must hold, each `vectorSlotChannels` wide.
    let vectorSlotCount: Int
    let vectorSlotChannels: Int
    /// The most rows of shifted input copies (copies × input channels) any convolution group needs.
    let maxShiftRows: Int
    /// The widest union window of any convolution group, in taps.
    let maxSpanTaps: Int

    /// Floating-point operations (multiply and add counted separately) per window of `timeSamples` samples,
    /// counting convolutions and dense layers, the work that dominates; elementwise layers are left out.
    public func flopsPerWindow(timeSamples: Int) -> Int {
        var flops = 0
        for layer in layers {
            switch layer {
            case .convolutions(let group):
                for conv in group.convolutions {
                    flops += 2 * conv.output.channels * group.input.channels * conv.kernel * timeSamples
                }
            case .dense(let input, let output, _, _):
                flops += 2 * input.channels * output.channels
            default:
                break
            }
        }
        return flops
    }

    /// One line per fused layer, in execution order: what `ecg-monitor run --print-plan` prints; a last line says
    /// when the graph's final Sigmoid was left out.
    public var summary: [String] {
        let lines = layers.map { layer in
            switch layer {
            case .convolutions(let group):
                let kernels = group.convolutions.map { "\($0.output.channels)×k\($0.kernel)" }
                return "conv \(group.input.channels)ch → [\(kernels.joined(separator: ", "))]"
            case .maxPool(let input, _, let kernel, _): return "maxpool k\(kernel) \(input.channels)ch"
            case .add(let a, _, _, let relu): return "add \(a.channels)ch\(relu ? " + relu" : "")"
            case .sequenceActivation(let input, _, let f): return "\(f) \(input.channels)ch"
            case .copy(let input, _): return "copy \(input.channels)ch"
            case .timeMean(let input, _, let rectified):
                return "mean over time \(input.channels)ch\(rectified ? " of relu" : "")"
            case .dense(let input, let output, _, let f): return "dense \(input.channels) → \(output.channels) \(f)"
            case .vectorActivation(let input, _, let f): return "\(f) \(input.channels)"
            case .gate(let gate):
                return "scale channels \(gate.input.channels)ch\(gate.rectified ? " of relu" : "")"
                    + (gate.residual == nil ? "" : " + residual") + (gate.relu ? " + relu" : "")
                    + (gate.pool.map { " + maxpool k\($0.kernel)" } ?? "")
            }
        }
        return droppedFinalSigmoid ? lines + ["(the graph's final sigmoid left out: logits are read before it)"] : lines
    }

    init(
        inputChannels: Int, outputCount: Int, fixedBatch: Int?, fixedTime: Int?, layers: [FusedLayer],
        input: SequenceRef, output: VectorRef, droppedFinalSigmoid: Bool, sequenceSlots: (count: Int, channels: Int),
        vectorSlots: (count: Int, channels: Int)
    ) {
        self.droppedFinalSigmoid = droppedFinalSigmoid
        self.inputChannels = inputChannels
        self.outputCount = outputCount
        self.fixedBatch = fixedBatch
        self.fixedTime = fixedTime
        self.layers = layers
        self.input = input
        self.output = output
        self.sequenceSlotCount = sequenceSlots.count
        self.sequenceSlotChannels = sequenceSlots.channels
        self.vectorSlotCount = vectorSlots.count
        self.vectorSlotChannels = vectorSlots.channels
        var rows = 0
        var span = 0
        for case .convolutions(let group) in layers {
            rows = max(rows, group.shiftCopies * group.input.channels)
            span = max(span, group.spanTaps)
        }
        self.maxShiftRows = rows
        self.maxSpanTaps = span
    }
}
