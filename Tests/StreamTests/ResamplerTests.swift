import Foundation
import Testing

@testable import Stream

@Suite struct ResamplerTests {
    /// Resamples one lead, pushing every input and draining outputs, checking invariants as it goes.
    static func resample(_ input: [Float], design: ResamplerDesign) -> [Float] {
        let resampler = Resampler(design: design, leadCount: 1)
        var output: [Float] = []
        var value: Float = 0
        for sample in input {
            withUnsafePointer(to: sample) { resampler.push($0) }
            while resampler.popOutput(into: &value) { output.append(value) }
        }
        resampler.testOnly_checkInvariants()
        return output
    }

    /// Amplitude of the component at `frequencyHz` in `signal` (least-squares fit of a sine and a cosine).
    static func amplitude(of signal: ArraySlice<Float>, frequencyHz: Double, rateHz: Double) -> Double {
        var (ss, cc, sc, sy, cy) = (0.0, 0.0, 0.0, 0.0, 0.0)
        for (offset, value) in signal.enumerated() {
            let phase = 2 * Double.pi * frequencyHz * Double(signal.startIndex + offset) / rateHz
            let (s, c) = (sin(phase), cos(phase))
            ss += s * s
            cc += c * c
            sc += s * c
            sy += s * Double(value)
            cy += c * Double(value)
        }
        let determinant = ss * cc - sc * sc
        let a = (sy * cc - cy * sc) / determinant
        let b = (cy * ss - sy * sc) / determinant
        return (a * a + b * b).squareRoot()
    }

    static func rms(_ signal: ArraySlice<Float>) -> Double {
        (signal.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(signal.count)).squareRoot()
    }

    static func sine(frequencyHz: Double, rateHz: Int, seconds: Double) -> [Float] {
        (0..<Int(seconds * Double(rateHz))).map {
            Float(sin(2 * Double.pi * frequencyHz * Double($0) / Double(rateHz) + 0.3))
        }
    }

    @Test(arguments: [500, 1000, 360, 250, 125, 257])
    func passBandIsFlatAndStopBandAttenuatedWhenDownsamplingTo100Hz(inputRateHz: Int) {
        let design = ResamplerDesign(inputRateHz: inputRateHz, outputRateHz: 100)
        #expect(design.passBandEdgeHz == 40)
        #expect(design.stopBandEdgeHz == 50)
        for frequency in [0.5, 1, 5, 10, 20, 30, 35, 40] {
            let output = Self.resample(
                Self.sine(frequencyHz: frequency, rateHz: inputRateHz, seconds: 6),
                design: design
            )
            let gain = Self.amplitude(of: output[100..<500], frequencyHz: frequency, rateHz: 100)
            #expect(abs(gain - 1) < 0.001, "pass band gain \(gain) at \(frequency) Hz from \(inputRateHz) Hz")
        }
        let nyquist = Double(inputRateHz) / 2
        for frequency in stride(from: 50.0, to: nyquist, by: 7.3) {
            let output = Self.resample(
                Self.sine(frequencyHz: frequency, rateHz: inputRateHz, seconds: 6),
                design: design
            )
            let decibels = 20 * log10(Self.rms(output[100..<500]) * 2.0.squareRoot())
            #expect(decibels < -60, "stop band \(decibels) dB at \(frequency) Hz from \(inputRateHz) Hz")
        }
    }

    @Test func upsamplingKeepsThePassBandAndRemovesImages() {
        let design = ResamplerDesign(inputRateHz: 250, outputRateHz: 500)
        #expect(design.upFactor == 2 && design.downFactor == 1)
        let output = Self.resample(Self.sine(frequencyHz: 60, rateHz: 250, seconds: 4), design: design)
        let signal = output[500..<1500]
        #expect(abs(Self.amplitude(of: signal, frequencyHz: 60, rateHz: 500) - 1) < 0.001)
        // The image of 60 Hz around the input rate lies at 190 Hz.
        #expect(Self.amplitude(of: signal, frequencyHz: 190, rateHz: 500) < 0.001)
    }

    @Test(arguments: [(500, 100), (360, 100), (257, 100), (100, 360), (1000, 500)])
    func polyphaseOutputEqualsNaiveUpsampleFilterDownsample(inputRateHz: Int, outputRateHz: Int) {
        let design = ResamplerDesign(inputRateHz: inputRateHz, outputRateHz: outputRateHz)
        var generator = TestSupport.Generator(seed: 3)
        let input = (0..<(2 * inputRateHz)).map { _ in Float.random(in: -1...1, using: &generator) }
        let output = Self.resample(input, design: design)
        let (up, down, taps) = (design.upFactor, design.downFactor, design.tapsPerPhase)
        // The effective prototype filter, rebuilt from the branches: h[p + kL] = branch_p[K − 1 − k].
        var prototype = [Double](repeating: 0, count: up * taps)
        for phase in 0..<up {
            for tap in 0..<taps {
                prototype[phase + tap * up] = Double(design.phaseCoefficients[phase * taps + taps - 1 - tap])
            }
        }
        var maxError = 0.0
        for (m, value) in output.enumerated() {
            let n = m * down + design.delayUpsampledSamples
            var sum = 0.0
            for j in 0..<prototype.count where (n - j) % up == 0 {
                let inputIndex = (n - j) / up
                sum += prototype[j] * Double(input[max(inputIndex, 0)])
            }
            maxError = max(maxError, abs(sum - Double(value)))
        }
        #expect(!output.isEmpty)
        #expect(maxError < 1e-5)
    }

    @Test func producesOneOutputForEveryInputPastTheLatency() {
        let design = ResamplerDesign(inputRateHz: 500, outputRateHz: 100)
        let output = Self.resample([Float](repeating: 0, count: 5000), design: design)
        let waiting = (design.delayUpsampledSamples + design.upFactor - 1) / design.upFactor
        #expect(output.count == (5000 - 1 - waiting) / 5 + 1)
        #expect(abs(design.latencySeconds - Double(design.delayUpsampledSamples) / 500) < 1e-12)
        #expect(design.latencySeconds < 0.25)
    }

    @Test(arguments: [500, 360, 257, 100])
    func constantInputGivesThatConstantFromTheFirstOutput(inputRateHz: Int) {
        let output = Self.resample(
            [Float](repeating: 1.75, count: 3 * inputRateHz),
            design: ResamplerDesign(inputRateHz: inputRateHz, outputRateHz: 100)
        )
        #expect(output.allSatisfy { abs($0 - 1.75) < 2e-6 })
    }

    @Test func equalRatesPassSamplesThroughUnchanged() {
        let input: [Float] = [0.5, -1, 3, 2.25, 0]
        let design = ResamplerDesign(inputRateHz: 100, outputRateHz: 100)
        #expect(design.tapsPerPhase == 1 && design.latencySeconds == 0)
        #expect(Self.resample(input, design: design) == input)
    }

    @Test func besselI0MatchesKnownValues() {
        #expect(ResamplerDesign.besselI0(0) == 1)
        #expect(abs(ResamplerDesign.besselI0(1) - 1.266065877752008) < 1e-12)
        #expect(abs(ResamplerDesign.besselI0(5) - 27.23987182360445) < 1e-10)
    }

    /// PTB-XL's record 8 at 500 Hz, resampled here, against PTB-XL's own 100 Hz version of it.
    @Test func resampled00008hrAgreesWithPTBXLs100HzVersion() throws {
        let high = try WFDBRecord.read(path: try TestSupport.samplePath("ECGClassification_PTBXL/00008_hr"))
        let low = try WFDBRecord.read(path: try TestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00008_lr"))
        let design = ResamplerDesign(inputRateHz: 500, outputRateHz: 100)
        var ours: [[Float]] = []
        var theirs: [[Float]] = []
        for lead in 0..<12 {
            ours.append(Self.resample(high.millivolts(signal: lead), design: design))
            theirs.append(low.millivolts(signal: lead))
        }
        // Compare over the samples both have, away from the record's edges, at the best small lag.
        var best = (lag: 0, correlation: -1.0, rms: 0.0)
        for lag in -3...3 {
            var (sumXY, sumXX, sumYY, sumSquaredDifference, count) = (0.0, 0.0, 0.0, 0.0, 0)
            for lead in 0..<12 {
                let x = ours[lead].map(Double.init)
                let y = theirs[lead].map(Double.init)
                let meanX = x[20..<(x.count - 20)].reduce(0, +) / Double(x.count - 40)
                let meanY = y[20..<(x.count - 20)].reduce(0, +) / Double(x.count - 40)
                for index in 20..<(x.count - 20) {
                    let (a, b) = (x[index] - meanX, y[index + lag] - meanY)
                    sumXY += a * b
                    sumXX += a * a
                    sumYY += b * b
                    sumSquaredDifference += (x[index] - y[index + lag]) * (x[index] - y[index + lag])
                    count += 1
                }
            }
            let correlation = sumXY / (sumXX * sumYY).squareRoot()
            if correlation > best.correlation {
                best = (lag, correlation, (sumSquaredDifference / Double(count)).squareRoot())
            }
        }
        print(
            "00008_hr → 100 Hz vs 00008_lr: lag \(best.lag) samples, correlation \(best.correlation), RMS difference \(best.rms) mV"
        )
        #expect(best.lag == 0)
        #expect(best.correlation > 0.99)
        #expect(best.rms < 0.03)
    }
}
