/// Every mutable buffer of the forward pass, allocated once in `init` and freed in `deinit`.
///
/// A workspace serves one inference worker (it is not `Sendable`). Windows are processed in passes of up to
/// `passColumns` samples (`windows · time`): large enough that each matrix product is efficient, small enough
/// that a pass's activations stay in the L3 cache. A worker also keeps its own copy of the packed weights, so the
/// forward pass reads only memory it owns (about 2 MB for the paper's model).
final class Workspace {
    /// The largest batch and window length `forward` accepts.
    let maxBatch: Int
    let maxTime: Int
    /// Samples (`windows · time`) per pass.
    let passColumns: Int
    /// Sequence slots, each `[sequenceChannels][passColumns]`.
    let sequences: UnsafeMutablePointer<Float>
    let sequenceSlotSize: Int
    /// Vector slots, each `[passWindows][vectorChannels]`.
    let vectors: UnsafeMutablePointer<Float>
    let vectorSlotSize: Int
    /// The shifted input copies of one block, `[maxShiftRows][blockColumns + maxSpanTaps - 1]` at most (see
    /// ``ConvolutionGroup``).
    let shifted: UnsafeMutablePointer<Float>
    /// The most output samples of one window a block of shifted copies serves.
    let blockColumns: Int
    /// Packed weights: 1×1 convolution weights (transposed, `[inputs][outputs]`, like the blocks' weights: see
    /// ``ModelWeights/blocks``), every bias, dense weights, and the stacked weights of the convolution blocks
    /// (longer kernels are only computed from those).
    private let arena: UnsafeMutablePointer<Float>
    private let arenaCount: Int
    let convolutionWeights: [UnsafePointer<Float>]
    let convolutionBias: [UnsafePointer<Float>]
    let denseWeights: [UnsafePointer<Float>]
    let denseBias: [UnsafePointer<Float>]
    let blockWeights: [UnsafePointer<Float>]

    /// The samples one pass aims at (16 windows of 250): larger passes mean fewer, wider matrix products.
    /// Measured on the 2-core EPYC machines (windows per CPU-second, paper model, batch 64, T = 250, medians of
    /// alternating runs): 1024 → 210, 2048 → 214, 4096 → 236, 16384 → 220.
    static let targetPassColumns = 4096
    /// The most output samples per block of shifted copies (windows longer than this are cut into near-equal
    /// blocks): 256 serves a window of 250 in one block and keeps the copies (5 × 32 × 288 × 4 bytes = 184 KiB for
    /// the paper's model) and the block's outputs well inside the 1 MiB L2.
    static let targetBlockColumns = 256

    /// Allocates the buffers for batches of up to `maxBatch` windows of up to `maxTime` samples.
    ///
    /// `passColumns` and `blockColumns` override the measured defaults (tests use them to cross more block and
    /// pass boundaries; tuning uses them to compare sizes in one process). `blockColumns` bounds the output samples
    /// per block of shifted input copies.
    init(
        plan: ModelPlan, weights: ModelWeights, maxBatch: Int, maxTime: Int,
        passColumns: Int = targetPassColumns, blockColumns: Int = targetBlockColumns
    ) {
        precondition(maxBatch >= 1 && maxTime >= 1, "workspace sizes must be positive")
        precondition(passColumns >= 1 && blockColumns >= 1, "block sizes must be positive")
        self.maxBatch = maxBatch
        self.maxTime = maxTime
        // A pass holds at least one whole window, so it may be longer than asked.
        self.passColumns = max(maxTime, min(maxBatch * maxTime, passColumns))
        let passWindows = min(maxBatch, self.passColumns)
        sequenceSlotSize = plan.sequenceSlotChannels * self.passColumns
        sequences = .allocate(capacity: plan.sequenceSlotCount * sequenceSlotSize)
        sequences.initialize(repeating: 0, count: plan.sequenceSlotCount * sequenceSlotSize)
        vectorSlotSize = plan.vectorSlotChannels * passWindows
        vectors = .allocate(capacity: plan.vectorSlotCount * vectorSlotSize)
        vectors.initialize(repeating: 0, count: plan.vectorSlotCount * vectorSlotSize)
        self.blockColumns = min(self.passColumns, blockColumns)
        let shiftedCount = max(1, plan.maxShiftRows * (self.blockColumns + max(plan.maxSpanTaps - 1, 0)))
        shifted = .allocate(capacity: shiftedCount)
        shifted.initialize(repeating: 0, count: shiftedCount)

        // Convolutions longer than 1 are computed from their blocks' stacked copies, so only their bias is kept.
        let convolutionCount = weights.convolutions.reduce(0) {
            $0 + ($1.kernel == 1 ? $1.weights.count : 0) + $1.bias.count
        }
        arenaCount =
            convolutionCount + weights.dense.reduce(0) { $0 + $1.weights.count + $1.bias.count }
            + weights.blocks.reduce(0) { $0 + $1.count }
        arena = .allocate(capacity: max(1, arenaCount))
        var cursor = arena
        func pack(_ values: [Float]) -> UnsafePointer<Float> {
            let start = cursor
            for (i, v) in values.enumerated() { (start + i).initialize(to: v) }
            cursor += values.count
            return UnsafePointer(start)
        }
        convolutionWeights = weights.convolutions.map {
            pack($0.kernel == 1 ? ModelWeights.transposed($0.weights, rows: $0.outputs) : [])
        }
        convolutionBias = weights.convolutions.map { pack($0.bias) }
        denseWeights = weights.dense.map { pack($0.weights) }
        denseBias = weights.dense.map { pack($0.bias) }
        blockWeights = weights.blocks.map { pack($0) }
    }

    deinit {
        sequences.deallocate()
        vectors.deallocate()
        shifted.deallocate()
        arena.deallocate()
    }

    /// The number of windows of `time` samples one pass takes.
    func windowsPerPass(time: Int) -> Int { max(1, passColumns / time) }

    /// The start of `ref`'s first channel in a pass of `columns` samples (rows are `columns` apart).
    func sequence(_ ref: SequenceRef, columns: Int) -> UnsafeMutablePointer<Float> {
        sequences + ref.slot * sequenceSlotSize + ref.channelOffset * columns
    }

    /// The start of `ref`'s `[windows][channels]` block.
    func vector(_ ref: VectorRef) -> UnsafeMutablePointer<Float> {
        vectors + ref.slot * vectorSlotSize
    }
}
