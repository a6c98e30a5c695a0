import Glibc

/// A second-order IIR section (biquad), normalised so that a0 = 1.
///
/// y[n] = b0·x[n] + b1·x[n−1] + b2·x[n−2] − a1·y[n−1] − a2·y[n−2], run in transposed direct form II, whose two
/// state values are kept by the caller (one pair per lead) so that one set of coefficients serves every lead.
struct Biquad: Sendable, Equatable {
    var b0: Float
    var b1: Float
    var b2: Float
    var a1: Float
    var a2: Float

    /// A Butterworth low-pass (Q = 1/√2), designed by the bilinear transform with the cutoff pre-warped.
    ///
    /// - Parameters:
    ///   - cutoffHz: −3 dB frequency, below half of `sampleRateHz`.
    ///   - sampleRateHz: the rate the filter runs at.
    static func butterworthLowPass(cutoffHz: Double, sampleRateHz: Double) -> Biquad {
        let k = tan(Double.pi * cutoffHz / sampleRateHz)
        let norm = 1 / (1 + 2.0.squareRoot() * k + k * k)
        let b0 = k * k * norm
        return Biquad(
            b0: Float(b0),
            b1: Float(2 * b0),
            b2: Float(b0),
            a1: Float(2 * (k * k - 1) * norm),
            a2: Float((1 - 2.0.squareRoot() * k + k * k) * norm)
        )
    }

    /// A Butterworth high-pass (Q = 1/√2), designed by the bilinear transform with the cutoff pre-warped.
    ///
    /// - Parameters:
    ///   - cutoffHz: −3 dB frequency, below half of `sampleRateHz`.
    ///   - sampleRateHz: the rate the filter runs at.
    static func butterworthHighPass(cutoffHz: Double, sampleRateHz: Double) -> Biquad {
        let k = tan(Double.pi * cutoffHz / sampleRateHz)
        let norm = 1 / (1 + 2.0.squareRoot() * k + k * k)
        return Biquad(
            b0: Float(norm),
            b1: Float(-2 * norm),
            b2: Float(norm),
            a1: Float(2 * (k * k - 1) * norm),
            a2: Float((1 - 2.0.squareRoot() * k + k * k) * norm)
        )
    }

    /// Filters one sample, updating the section's two state values `z1`, `z2`.
    @inline(__always)
    func step(_ x: Float, _ z1: inout Float, _ z2: inout Float) -> Float {
        let y = b0 * x + z1
        z1 = b1 * x - a1 * y + z2
        z2 = b2 * x - a2 * y
        return y
    }

    /// Gain magnitude at `frequencyHz`, for the filter's tests and the delay estimate.
    func magnitude(atHz frequencyHz: Double, sampleRateHz: Double) -> Double {
        let (real, imaginary) = response(atHz: frequencyHz, sampleRateHz: sampleRateHz)
        return (real * real + imaginary * imaginary).squareRoot()
    }

    /// Phase in radians at `frequencyHz`.
    func phase(atHz frequencyHz: Double, sampleRateHz: Double) -> Double {
        let (real, imaginary) = response(atHz: frequencyHz, sampleRateHz: sampleRateHz)
        return atan2(imaginary, real)
    }

    /// H(e^{jω}) = (b0 + b1 e^{−jω} + b2 e^{−2jω}) / (1 + a1 e^{−jω} + a2 e^{−2jω}) as (real, imaginary).
    private func response(atHz frequencyHz: Double, sampleRateHz: Double) -> (Double, Double) {
        let w = 2 * Double.pi * frequencyHz / sampleRateHz
        let (c1, s1, c2, s2) = (cos(w), -sin(w), cos(2 * w), -sin(2 * w))
        let numReal = Double(b0) + Double(b1) * c1 + Double(b2) * c2
        let numImag = Double(b1) * s1 + Double(b2) * s2
        let denReal = 1 + Double(a1) * c1 + Double(a2) * c2
        let denImag = Double(a1) * s1 + Double(a2) * s2
        let denominator = denReal * denReal + denImag * denImag
        return (
            (numReal * denReal + numImag * denImag) / denominator,
            (numImag * denReal - numReal * denImag) / denominator
        )
    }
}
