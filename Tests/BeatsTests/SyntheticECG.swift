import Foundation

/// A small synthetic ECG for the detector's tests: each beat a sum of Gaussian waves (P, Q, R, S, T) around its
/// R peak, the same morphology scaled per lead, plus optional white noise and baseline wander.
struct SyntheticECG {
    struct Wave {
        var offsetSeconds: Double
        var widthSeconds: Double
        var millivolts: Double
    }

    var sampleRateHz: Double
    /// R-peak times, seconds.
    var beatSeconds: [Double]
    /// Peak of the T wave, mV (the R wave is 1 mV).
    var tWaveMillivolts = 0.3
    /// Standard deviation of white noise, mV.
    var noiseMillivolts = 0.0
    /// Amplitude of a 0.3 Hz baseline wander, mV.
    var wanderMillivolts = 0.0
    /// Each lead's scale of the beat.
    var leadGains: [Double] = [1.0, -0.6]
    var seed: UInt64 = 1

    var waves: [Wave] {
        [
            Wave(offsetSeconds: -0.18, widthSeconds: 0.025, millivolts: 0.15),
            Wave(offsetSeconds: -0.025, widthSeconds: 0.008, millivolts: -0.1),
            Wave(offsetSeconds: 0, widthSeconds: 0.01, millivolts: 1.0),
            Wave(offsetSeconds: 0.025, widthSeconds: 0.008, millivolts: -0.25),
            Wave(offsetSeconds: 0.28, widthSeconds: 0.05, millivolts: tWaveMillivolts),
        ]
    }

    /// Interleaved frames `[sample][lead]`, mV, for `seconds` of signal.
    func frames(seconds: Double) -> [Float] {
        let count = Int(seconds * sampleRateHz)
        var clean = [Double](repeating: 0, count: count)
        for beat in beatSeconds {
            for wave in waves {
                let centre = beat + wave.offsetSeconds
                let first = max(0, Int((centre - 5 * wave.widthSeconds) * sampleRateHz))
                let last = min(count - 1, Int((centre + 5 * wave.widthSeconds) * sampleRateHz))
                guard first <= last else { continue }
                for sample in first...last {
                    let z = (Double(sample) / sampleRateHz - centre) / wave.widthSeconds
                    clean[sample] += wave.millivolts * exp(-0.5 * z * z)
                }
            }
        }
        var random = TestRandom(seed: seed)
        var frames = [Float](repeating: 0, count: count * leadGains.count)
        for sample in 0..<count {
            let wander = wanderMillivolts * sin(2 * Double.pi * 0.3 * Double(sample) / sampleRateHz)
            for (lead, gain) in leadGains.enumerated() {
                frames[sample * leadGains.count + lead] = Float(
                    gain * clean[sample] + wander + noiseMillivolts * random.nextGaussian()
                )
            }
        }
        return frames
    }

    /// Beat times at a constant rate from `start` up to `end` seconds.
    static func regularBeats(bpm: Double, from start: Double, to end: Double) -> [Double] {
        guard bpm > 0 else { return [] }
        return Array(stride(from: start, to: end, by: 60 / bpm))
    }
}

/// SplitMix64 with a Box–Muller Gaussian: reproducible noise without Foundation's generators.
struct TestRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextUniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func nextGaussian() -> Double {
        let u = max(nextUniform(), 1e-300)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * nextUniform())
    }
}
