import Testing

@testable import Producers

@Suite struct ECGSimulatorTests {
    /// `seconds` of all 12 leads, `[instant][lead]`.
    private func simulate(
        _ rhythm: ECGSimulator.Rhythm,
        hr: Double? = nil,
        seconds: Double = 60,
        noise: Double = 0.01,
        seed: UInt64 = 1
    ) -> [[Float]] {
        var simulator = ECGSimulator(
            rhythm: rhythm,
            heartRateBPM: hr,
            sampleRateHz: 500,
            noiseMillivolts: noise,
            seed: seed
        )
        return (0..<Int(seconds * 500)).map { _ in simulator.next() }
    }

    /// R peaks of lead II: local maxima above 0.6 mV, at least 200 ms apart; seconds.
    private func rPeaks(_ signal: [[Float]]) -> [Double] {
        var peaks: [Double] = []
        var last = -1_000
        for index in 1..<(signal.count - 1) where signal[index][1] > 0.6 {
            let value = signal[index][1]
            guard value >= signal[index - 1][1], value > signal[index + 1][1], index - last > 100 else { continue }
            peaks.append(Double(index) / 500)
            last = index
        }
        return peaks
    }

    private func intervals(_ peaks: [Double]) -> [Double] { zip(peaks.dropFirst(), peaks).map { $0 - $1 } }

    private func coefficientOfVariation(_ values: [Double]) -> Double {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return variance.squareRoot() / mean
    }

    @Test(arguments: [
        (ECGSimulator.Rhythm.sinus, nil, 70.0), (.tachy, nil, 125), (.brady, nil, 45), (.sinus, 90, 90),
        (.afib, nil, 110), (.flutter, nil, 150),
    ])
    func heartRateIsTheOneAskedFor(rhythm: ECGSimulator.Rhythm, hr: Double?, expected: Double) {
        let rr = intervals(rPeaks(simulate(rhythm, hr: hr)))
        let measured = 60 / (rr.reduce(0, +) / Double(rr.count))
        #expect(abs(measured - expected) / expected < 0.06, "\(rhythm): \(measured) bpm")
    }

    @Test func atrialFibrillationIsIrregularAndSinusIsNot() {
        #expect(coefficientOfVariation(intervals(rPeaks(simulate(.afib)))) > 0.12)
        #expect(coefficientOfVariation(intervals(rPeaks(simulate(.sinus)))) < 0.06)
        #expect(coefficientOfVariation(intervals(rPeaks(simulate(.flutter)))) < 0.02)
    }

    /// Averaged on R peaks, lead II shows a P wave about 160 ms before R in sinus rhythm and none in AF, whose
    /// fibrillatory waves are not locked to the beats and average out.
    @Test func sinusBeatsHavePWavesAndFibrillationHasNone() {
        func averagedPWaveMillivolts(_ rhythm: ECGSimulator.Rhythm) -> Double {
            let signal = simulate(rhythm, noise: 0.005)
            let peaks = rPeaks(signal).filter { $0 > 0.5 && $0 < 59 }
            var sum = [Double](repeating: 0, count: 100)
            for peak in peaks {
                let center = Int(peak * 500)
                // 250 ms to 50 ms before R, relative to the level 300 ms before R.
                let reference = Double(signal[center - 150][1])
                for offset in 0..<100 { sum[offset] += Double(signal[center - 125 + offset][1]) - reference }
            }
            return sum.map { $0 / Double(peaks.count) }.max() ?? 0
        }
        #expect(averagedPWaveMillivolts(.sinus) > 0.1)
        #expect(averagedPWaveMillivolts(.afib) < 0.05)
    }

    @Test func ventricularEctopicsArePrematureWithACompensatoryPause() {
        let rr = intervals(rPeaks(simulate(.pvc, seconds: 60)))
        let mean = 60 / 75.0
        let premature = rr.indices.dropLast().filter { rr[$0] < 0.7 * mean }
        #expect(premature.count >= 6)
        for index in premature {
            #expect(abs(rr[index] + rr[index + 1] - 2 * mean) < 0.15 * mean)
        }
    }

    @Test func limbLeadsObeyEinthovenAndGoldberger() {
        for instant in simulate(.afib, seconds: 2) {
            #expect(abs(instant[2] - (instant[1] - instant[0])) < 1e-5)
            #expect(abs(instant[3] + instant[4] + instant[5]) < 1e-5)
        }
    }

    @Test func theSameSeedGivesTheSameSignal() {
        #expect(simulate(.afib, seconds: 3, seed: 7) == simulate(.afib, seconds: 3, seed: 7))
        #expect(simulate(.afib, seconds: 3, seed: 7) != simulate(.afib, seconds: 3, seed: 8))
    }

    @Test func amplitudesArePhysiological() {
        let signal = simulate(.sinus, seconds: 10)
        let leadII = signal.map { $0[1] }
        let v1 = signal.map { $0[6] }
        #expect((0.8...2.0).contains(leadII.max() ?? 0))
        // V1 is mostly negative (rS): the main QRS force points away from it.
        #expect((v1.min() ?? 0) < -0.5 && (v1.max() ?? 0) < 0.5)
    }
}
