import Glibc

/// The anti-aliasing filter of a rational resampler, split into polyphase branches; immutable, shareable.
///
/// Converting `inputRateHz` to `outputRateHz` is upsampling by L, low-pass filtering, and downsampling by M,
/// with L/M = output/input in lowest terms. The low-pass is a linear-phase Kaiser-windowed sinc at the
/// upsampled rate with:
///
/// - pass band edge 0.4 · min(input, output) rate (40 Hz when the output is 100 Hz),
/// - stop band edge 0.5 · min(input, output) rate (the lower Nyquist frequency: nothing aliases),
/// - `attenuationDecibels` in the stop band (default 65 dB; pass band ripple is then below 0.01 dB).
///
/// Equal rates need no filter: the design is a single unit tap and output equals input exactly.
public struct ResamplerDesign: Sendable {
    /// Rate of the samples pushed in, Hz.
    public let inputRateHz: Int
    /// Rate of the samples produced, Hz.
    public let outputRateHz: Int
    /// Upsampling factor L.
    public let upFactor: Int
    /// Downsampling factor M.
    public let downFactor: Int
    /// Taps of each polyphase branch, K: the filter spans K input samples.
    public let tapsPerPhase: Int
    /// Delay of the linear-phase prototype filter, in samples at the upsampled rate: (taps − 1) / 2.
    public let delayUpsampledSamples: Int
    /// Pass band edge, Hz.
    public let passBandEdgeHz: Double
    /// Stop band edge, Hz.
    public let stopBandEdgeHz: Double
    /// Branch coefficients `[L][K]`, each branch reversed so that branch · (oldest … newest input) is the output.
    let phaseCoefficients: [Float]

    /// Designs the filter.
    ///
    /// - Parameters:
    ///   - inputRateHz: 1 or more.
    ///   - outputRateHz: 1 or more.
    ///   - attenuationDecibels: minimum stop band attenuation, 21…120 dB.
    /// - Complexity: O(L · K) time and memory; shared by every stream of the same rates.
    public init(inputRateHz: Int, outputRateHz: Int, attenuationDecibels: Double = 65) {
        precondition(inputRateHz > 0 && outputRateHz > 0, "rates must be positive")
        precondition((21...120).contains(attenuationDecibels), "attenuation must be 21...120 dB")
        self.inputRateHz = inputRateHz
        self.outputRateHz = outputRateHz
        let divisor = Self.greatestCommonDivisor(inputRateHz, outputRateHz)
        upFactor = outputRateHz / divisor
        downFactor = inputRateHz / divisor
        let lowerRate = Double(min(inputRateHz, outputRateHz))
        passBandEdgeHz = 0.4 * lowerRate
        stopBandEdgeHz = 0.5 * lowerRate
        guard inputRateHz != outputRateHz else {
            tapsPerPhase = 1
            delayUpsampledSamples = 0
            phaseCoefficients = [1]
            return
        }
        let prototype = Self.kaiserLowPass(
            upsampledRateHz: Double(upFactor * inputRateHz),
            passBandEdgeHz: passBandEdgeHz,
            stopBandEdgeHz: stopBandEdgeHz,
            attenuationDecibels: attenuationDecibels
        )
        delayUpsampledSamples = (prototype.count - 1) / 2
        tapsPerPhase = (prototype.count + upFactor - 1) / upFactor
        phaseCoefficients = Self.polyphaseBranches(prototype, upFactor: upFactor, tapsPerPhase: tapsPerPhase)
    }

    /// How long an input sample waits before the output sample at its instant can be computed, seconds.
    public var latencySeconds: Double {
        Double(delayUpsampledSamples) / Double(upFactor * inputRateHz)
    }

    // MARK: - Design

    /// A Kaiser-windowed sinc of odd length, unit gain at DC (Oppenheim & Schafer's window method).
    static func kaiserLowPass(
        upsampledRateHz: Double,
        passBandEdgeHz: Double,
        stopBandEdgeHz: Double,
        attenuationDecibels: Double
    ) -> [Double] {
        let transition = 2 * Double.pi * (stopBandEdgeHz - passBandEdgeHz) / upsampledRateHz
        var count = Int(((attenuationDecibels - 7.95) / (2.285 * transition)).rounded(.up)) + 1
        if count % 2 == 0 { count += 1 }
        let beta: Double =
            if attenuationDecibels > 50 {
                0.1102 * (attenuationDecibels - 8.7)
            } else {
                0.5842 * pow(attenuationDecibels - 21, 0.4) + 0.07886 * (attenuationDecibels - 21)
            }
        let cutoff = (passBandEdgeHz + stopBandEdgeHz) / 2 / upsampledRateHz
        let center = Double(count - 1) / 2
        let windowNorm = besselI0(beta)
        var taps = (0..<count).map { index -> Double in
            let offset = Double(index) - center
            let sinc = offset == 0 ? 2 * cutoff : sin(2 * Double.pi * cutoff * offset) / (Double.pi * offset)
            let ratio = offset / center
            return sinc * besselI0(beta * (1 - ratio * ratio).squareRoot()) / windowNorm
        }
        let sum = taps.reduce(0, +)
        for index in taps.indices { taps[index] /= sum }
        return taps
    }

    /// Splits the prototype into L branches of K taps, each scaled so that it passes DC with gain exactly 1.
    ///
    /// Unit DC gain per branch means a constant input gives exactly that constant out, whatever the phase.
    static func polyphaseBranches(_ prototype: [Double], upFactor: Int, tapsPerPhase: Int) -> [Float] {
        var branches = [Float](repeating: 0, count: upFactor * tapsPerPhase)
        for phase in 0..<upFactor {
            var taps = (0..<tapsPerPhase).map { tap -> Double in
                let index = phase + tap * upFactor
                return index < prototype.count ? prototype[index] : 0
            }
            let sum = taps.reduce(0, +)
            for tap in taps.indices { taps[tap] /= sum }
            for tap in 0..<tapsPerPhase {
                branches[phase * tapsPerPhase + (tapsPerPhase - 1 - tap)] = Float(taps[tap])
            }
        }
        return branches
    }

    /// Modified Bessel function of the first kind, order 0, by its power series (converges for all x).
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0
        var term = 1.0
        let quarterSquare = x * x / 4
        var k = 1.0
        while term > 1e-17 * sum {
            term *= quarterSquare / (k * k)
            sum += term
            k += 1
        }
        return sum
    }

    private static func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}
