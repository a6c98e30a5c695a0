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

    /// Per lead, the last K inputs written twice (at `head` and `head + K`) so that they are always
    /// contiguous, oldest first, at `history[lead * 2K + head ..< … + K]`.
    private let history: UnsafeMutablePointer<Float>
    private var head = 0
    private let coefficients: UnsafeMutablePointer<Float>

    /// Creates a resampler with all state at zero.
    public init(design: ResamplerDesign, leadCount: Int) {
        precondition(leadCount >= 1, "at least one lead")
        self.design = design
        self.leadCount = leadCount
        let taps = design.tapsPerPhase
        history = .allocate(capacity: leadCount * 2 * taps)
        history.initialize(repeating: 0, count: leadCount * 2 * taps)
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
    /// - Complexity: O(leads); the first push is O(leads · K) (history fill).
    public func push(_ input: UnsafePointer<Float>) {
        let taps = design.tapsPerPhase
        if inputCount == 0 {
            for lead in 0..<leadCount {
                (history + lead * 2 * taps).update(repeating: input[lead], count: 2 * taps)
            }
        } else {
            for lead in 0..<leadCount {
                let row = history + lead * 2 * taps
                row[head] = input[lead]
                row[head + taps] = input[lead]
            }
        }
        head = head + 1 == taps ? 0 : head + 1
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
            let samples = history + lead * 2 * taps + head
            var sum: Float = 0
            for tap in 0..<taps {
                sum += branch[tap] * samples[tap]
            }
            output[lead] = sum
        }
        outputCount += 1
        return true
    }

    // MARK: - Testing

    /// Checks the history's double-write invariant; tests call it after every mutation.
    func testOnly_checkInvariants() {
        let taps = design.tapsPerPhase
        precondition(0 <= head && head < taps)
        for lead in 0..<leadCount {
            let row = history + lead * 2 * taps
            for index in 0..<taps {
                precondition(row[index] == row[index + taps] || (row[index].isNaN && row[index + taps].isNaN))
            }
        }
    }
}
