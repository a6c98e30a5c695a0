/// Causal polyphase resampler for several leads at once, with its filter state carried across calls.
///
/// Output sample m is the band-limited signal at input time m / outputRate: the filter's delay is
/// compensated by waiting for the input it needs (``ResamplerDesign/latencySeconds``), so stream times
/// before and after resampling agree. Before the first input, the signal is taken to have been constant
/// at its first value, so a stream starts without a filter transient. Allocates only in `init`.
public final class Resampler {
    /// The filter.
    public let design: ResamplerDesign
    /// Leads processed together.
    public let leadCount: Int
    /// Input instants pushed so far.
    public private(set) var inputCount = 0
    /// Output instants produced so far.
    public private(set) var outputCount = 0

    /// Per lead a row of `K + slack` inputs, oldest first, whose last K (`row[filled − K ..< filled]`) are the
    /// filter's input. When a row is full its last K − 1 move to its front: one move of K floats every `slack`
    /// inputs keeps the K contiguous at a third of the memory a twice-written ring of 2K takes.
    private let history: UnsafeMutablePointer<Float>
    private let rowLength: Int
    private var filled = 0
    private let coefficients: UnsafeMutablePointer<Float>

    /// Inputs a row holds beyond the filter's K: each costs a float per lead, and the moves cost K / `slack`
    /// floats per input.
    static let slack = 32

    /// Creates a resampler with all state at zero.
    public init(design: ResamplerDesign, leadCount: Int) {
        precondition(leadCount >= 1, "at least one lead")
        self.design = design
        self.leadCount = leadCount
        rowLength = design.tapsPerPhase + Self.slack
        history = .allocate(capacity: leadCount * rowLength)
        history.initialize(repeating: 0, count: leadCount * rowLength)
        coefficients = .allocate(capacity: design.phaseCoefficients.count)
        design.phaseCoefficients.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            coefficients.initialize(from: base, count: source.count)
        }
    }

    deinit {
        history.deallocate()
        coefficients.deallocate()
    }

    /// Pushes one input instant.
    ///
    /// - Parameter input: one finite value per lead, `[leadCount]`.
    /// - Complexity: O(leads), amortised; the first push is O(leads · K) (history fill).
    public func push(_ input: UnsafePointer<Float>) {
        let taps = design.tapsPerPhase
        if inputCount == 0 {
            for lead in 0..<leadCount {
                (history + lead * rowLength).update(repeating: input[lead], count: taps)
            }
            filled = taps
        } else {
            if filled == rowLength {
                for lead in 0..<leadCount {
                    let row = history + lead * rowLength
                    row.update(from: row + filled - (taps - 1), count: taps - 1)
                }
                filled = taps - 1
            }
            for lead in 0..<leadCount {
                history[lead * rowLength + filled] = input[lead]
            }
            filled += 1
        }
        inputCount += 1
    }

    /// The last input instant at or before the time of output instant `output`: ⌊output · M / L⌋.
    public func inputIndex(atOutput output: Int) -> Int {
        output * design.downFactor / design.upFactor
    }

    /// Computes the next output instant if the input it needs has arrived.
    ///
    /// - Parameter output: receives one value per lead, `[leadCount]`.
    /// - Returns: `false` when more input is needed.
    /// - Complexity: O(leads · K).
    public func popOutput(into output: UnsafeMutablePointer<Float>) -> Bool {
        let upsampledIndex = outputCount * design.downFactor + design.delayUpsampledSamples
        guard inputCount > 0, upsampledIndex / design.upFactor == inputCount - 1 else {
            assert(inputCount == 0 || upsampledIndex / design.upFactor >= inputCount - 1, "outputs are drained eagerly")
            return false
        }
        let taps = design.tapsPerPhase
        let branch = coefficients + (upsampledIndex % design.upFactor) * taps
        for lead in 0..<leadCount {
            output[lead] = Self.dot(branch, history + lead * rowLength + filled - taps, count: taps)
        }
        outputCount += 1
        return true
    }

    /// `Σ a[i]·b[i]` in sixteen lanes: a sum in tap order is one chain of dependent adds the compiler may not
    /// reorder, several times slower; the lanes change the rounding only (the sum of up to a few hundred taps).
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        typealias Lanes = SIMD16<Float>
        var lanes = Lanes()
        var index = 0
        while index + Lanes.scalarCount <= count {
            let x = UnsafeRawPointer(a + index).loadUnaligned(as: Lanes.self)
            let y = UnsafeRawPointer(b + index).loadUnaligned(as: Lanes.self)
            lanes += x * y
            index += Lanes.scalarCount
        }
        var sum = lanes.sum()
        while index < count {
            sum += a[index] * b[index]
            index += 1
        }
        return sum
    }

    // MARK: - Testing

    /// Checks that the filter's K inputs lie inside the rows; tests call it after every mutation.
    func testOnly_checkInvariants() {
        precondition(inputCount == 0 ? filled == 0 : design.tapsPerPhase <= filled && filled <= rowLength)
    }
}
