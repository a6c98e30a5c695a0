import Foundation
import Stream

/// A synthetic 12-lead ECG: a moving cardiac dipole, sum of Gaussian waves in Frank X, Y, Z, projected onto
/// the leads with Dower's transform.
///
/// Each beat is a set of waves (P, Q, R, S, T; or a wide ectopic complex) at offsets from its R peak, each
/// wave a Gaussian in time along a fixed spatial direction (the 3-D extension of McSharry et al.'s ECGSYN
/// wave model, as in Sameni et al. 2007). The dipole drives I, II and V1–V6 through Dower's coefficients
/// (Dower et al. 1988); III, aVR, aVL, aVF follow from Einthoven's and Goldberger's equations. Rhythms differ
/// in how beats are timed and in atrial activity: sinus rhythms with respiratory RR modulation; atrial
/// fibrillation with irregular RR, no P waves and fibrillatory f-waves (4–9 Hz, strongest in V1); flutter
/// with a 300/min sawtooth and fixed conduction; ventricular ectopics with compensatory pauses.
///
/// Limits: one morphology per rhythm for every "patient", no beat-to-beat morphology change, no axis change
/// with respiration, Gaussian waves without the steep QRS edges of a real conduction system, lead vectors of
/// a standard torso, and noise that is white plus a sinusoidal baseline wander. It exercises the pipeline and
/// the alarm path with plausible signals; it is not a validation set for the classifier.
public struct ECGSimulator: Sendable {
    /// Rhythms the simulator knows.
    public enum Rhythm: String, CaseIterable, Sendable {
        case sinus, tachy, brady, afib, flutter, pvc

        /// Ventricular rate used when none is given, beats per minute.
        public var defaultHeartRateBPM: Double {
            switch self {
            case .sinus: 70
            case .tachy: 125
            case .brady: 45
            case .afib: 110
            case .flutter: 150
            case .pvc: 75
            }
        }
    }

    /// A change of the ventricular rate at a stream time; 0 bpm stops the beats for good (asystole).
    public struct RateStep: Sendable, Equatable {
        /// Stream seconds from which the rate holds.
        public var atSeconds: Double
        /// The new rate, beats per minute: 0, or 20…250.
        public var beatsPerMinute: Double

        /// A step to `beatsPerMinute` at `atSeconds`.
        public init(atSeconds: Double, beatsPerMinute: Double) {
            self.atSeconds = atSeconds
            self.beatsPerMinute = beatsPerMinute
        }
    }

    /// One Gaussian wave: its centre relative to the R peak, its width (standard deviation), and its peak
    /// dipole in Frank X (right to left), Y (head to foot), Z (front to back), millivolts.
    struct Wave {
        var offsetSeconds: Double
        var widthSeconds: Double
        var dipole: SIMD3<Double>
    }

    struct Beat {
        var rPeakSeconds: Double
        var waves: [Wave]
    }

    /// Dower's coefficients of I, II, V1 … V6 on Frank X, Y, Z.
    static let dowerRows: [SIMD3<Double>] = [
        SIMD3(0.632, -0.235, 0.059), SIMD3(0.235, 1.066, -0.132), SIMD3(-0.515, 0.157, -0.917),
        SIMD3(0.044, 0.164, -1.387), SIMD3(0.882, 0.098, -1.277), SIMD3(1.213, 0.127, -0.601),
        SIMD3(1.125, 0.127, -0.086), SIMD3(0.831, 0.076, 0.230),
    ]

    let rhythm: Rhythm
    private(set) var heartRateBPM: Double
    /// Rate changes not yet reached, in time order.
    private var rateSteps: [RateStep]
    let sampleRateHz: Int
    let noiseMillivolts: Double
    var random: SplitMix64
    private var instant = 0
    private var beats: [Beat] = []
    private var nextSinusBeat = 0.3
    private var sinusBeatCount = 0
    private var nextEctopicBeat = 0
    private var atrialPhase = 0.0
    private var fibrillationHz = 6.0
    private var wanderPhases: [Double]

    /// - Parameters:
    ///   - rhythm: the rhythm.
    ///   - heartRateBPM: ventricular rate, 20…250; `nil` for the rhythm's default.
    ///   - sampleRateHz: output rate.
    ///   - noiseMillivolts: standard deviation of white noise per lead; baseline wander is three times that.
    ///   - seed: the same seed gives the same signal.
    ///   - rateSteps: later changes of the rate (a beat takes the rate in force at its time).
    public init(
        rhythm: Rhythm,
        heartRateBPM: Double?,
        sampleRateHz: Int,
        noiseMillivolts: Double,
        seed: UInt64,
        rateSteps: [RateStep] = []
    ) {
        self.rhythm = rhythm
        self.heartRateBPM = heartRateBPM ?? rhythm.defaultHeartRateBPM
        self.rateSteps = rateSteps.sorted { $0.atSeconds < $1.atSeconds }
        self.sampleRateHz = sampleRateHz
        self.noiseMillivolts = noiseMillivolts
        random = SplitMix64(seed: seed)
        wanderPhases = []
        for _ in 0..<Self.dowerRows.count {
            wanderPhases.append(Double.random(in: 0..<(2 * Double.pi), using: &random))
        }
        nextEctopicBeat = Int.random(in: 4...7, using: &random)
    }

    /// The next instant of all 12 leads, millivolts, in ``StandardLead`` order.
    public mutating func next() -> [Float] {
        let time = Double(instant) / Double(sampleRateHz)
        instant += 1
        while (beats.last?.rPeakSeconds ?? -1) < time + 1.5, scheduleBeat() {}
        beats.removeAll { $0.rPeakSeconds < time - 1.5 }
        var dipole = SIMD3<Double>(0, 0, 0)
        for beat in beats {
            for wave in beat.waves {
                let delta = time - beat.rPeakSeconds - wave.offsetSeconds
                guard abs(delta) < 5 * wave.widthSeconds else { continue }
                dipole += wave.dipole * exp(-delta * delta / (2 * wave.widthSeconds * wave.widthSeconds))
            }
        }
        dipole += atrialActivity(time: time)
        // Noise and wander are added to the measured leads, and the rest derived from them, as a device does,
        // so Einthoven's and Goldberger's equations hold exactly in the output.
        let measured = Self.dowerRows.enumerated().map { index, row in
            let wander = 3 * noiseMillivolts * sin(2 * Double.pi * 0.2 * time + wanderPhases[index])
            return (row * dipole).sum() + wander + noiseMillivolts * random.nextGaussian()
        }
        let (leadI, leadII) = (measured[0], measured[1])
        let limb = [leadI, leadII, leadII - leadI, -(leadI + leadII) / 2, leadI - leadII / 2, leadII - leadI / 2]
        return (limb + measured[2...]).map(Float.init)
    }

    // MARK: - Beats

    private var meanRRSeconds: Double { 60 / heartRateBPM }

    /// Schedules the next beat, at the rate in force at its time; false in asystole, when there is none.
    private mutating func scheduleBeat() -> Bool {
        let next =
            rhythm == .sinus || rhythm == .tachy || rhythm == .brady || rhythm == .pvc
            ? nextSinusBeat : (beats.last?.rPeakSeconds ?? 0) + meanRRSeconds
        while let step = rateSteps.first, step.atSeconds <= next {
            rateSteps.removeFirst()
            heartRateBPM = step.beatsPerMinute
        }
        guard heartRateBPM > 0 else { return false }
        switch rhythm {
        case .sinus, .tachy, .brady:
            appendSinusBeat()
        case .pvc:
            sinusBeatCount += 1
            if sinusBeatCount == nextEctopicBeat, let last = beats.last {
                // Premature ventricular beat, then a full compensatory pause: the sinus node keeps its pace.
                beats.append(Beat(rPeakSeconds: last.rPeakSeconds + 0.55 * meanRRSeconds, waves: Self.ectopicWaves()))
                nextSinusBeat += meanRRSeconds
                sinusBeatCount = 0
                nextEctopicBeat = Int.random(in: 4...7, using: &random)
            } else {
                appendSinusBeat()
            }
        case .afib:
            let last = beats.last?.rPeakSeconds ?? 0
            let interval = min(2, max(0.28, meanRRSeconds * exp(0.2 * random.nextGaussian())))
            beats.append(Beat(rPeakSeconds: last + interval, waves: Self.ventricularWaves(rr: interval)))
        case .flutter:
            // Atrial cycle 0.2 s (300/min) conducted every k-th cycle: ventricular rate 300/k.
            let conduction = max(2, (300 / heartRateBPM).rounded())
            let interval = 0.2 * conduction
            let last = beats.last?.rPeakSeconds ?? 0.05
            beats.append(Beat(rPeakSeconds: last + interval, waves: Self.ventricularWaves(rr: interval)))
        }
        return true
    }

    /// Sinus beats: RR modulated by breathing (±5 % at 0.25 Hz) and a little jitter.
    private mutating func appendSinusBeat() {
        let time = nextSinusBeat
        let interval =
            meanRRSeconds * (1 + 0.05 * sin(2 * Double.pi * 0.25 * time)) * (1 + 0.01 * random.nextGaussian())
        var waves = Self.ventricularWaves(rr: interval)
        let prInterval = 0.12 + 0.04 * min(interval, 1.2)
        waves.append(Wave(offsetSeconds: -prInterval, widthSeconds: 0.022, dipole: SIMD3(0.12, 0.12, 0.0)))
        beats.append(Beat(rPeakSeconds: time, waves: waves))
        nextSinusBeat = time + interval
    }

    /// Q, R, S and a T wave whose timing follows the RR interval (QT ∝ √RR, Bazett).
    static func ventricularWaves(rr: Double) -> [Wave] {
        let root = rr.squareRoot()
        return [
            Wave(offsetSeconds: -0.028, widthSeconds: 0.009, dipole: SIMD3(-0.12, -0.05, -0.20)),
            Wave(offsetSeconds: 0, widthSeconds: 0.011, dipole: SIMD3(1.10, 0.90, 0.60)),
            Wave(offsetSeconds: 0.030, widthSeconds: 0.012, dipole: SIMD3(-0.35, -0.25, 0.45)),
            Wave(offsetSeconds: 0.28 * root, widthSeconds: 0.045 * root + 0.01, dipole: SIMD3(0.30, 0.22, -0.14)),
        ]
    }

    /// A wide complex from a right-ventricular outflow focus (inferior axis, QS in V1) with a discordant T.
    static func ectopicWaves() -> [Wave] {
        [
            Wave(offsetSeconds: -0.015, widthSeconds: 0.030, dipole: SIMD3(0.40, 1.40, 0.90)),
            Wave(offsetSeconds: 0.035, widthSeconds: 0.025, dipole: SIMD3(0.20, 0.30, 0.50)),
            Wave(offsetSeconds: 0.32, widthSeconds: 0.070, dipole: SIMD3(-0.25, -0.45, -0.30)),
        ]
    }

    // MARK: - Atria

    /// Fibrillatory or flutter waves; nothing in sinus rhythms (their P waves belong to the beats).
    private mutating func atrialActivity(time: Double) -> SIMD3<Double> {
        let step = 1 / Double(sampleRateHz)
        switch rhythm {
        case .afib:
            // The dominant frequency wanders between 4 and 9 Hz; amplitude breathes slowly.
            fibrillationHz = min(9, max(4, fibrillationHz + 0.5 * step.squareRoot() * random.nextGaussian()))
            atrialPhase += 2 * Double.pi * fibrillationHz * step
            let amplitude = 0.1 * (1 + 0.3 * sin(2 * Double.pi * 0.3 * time))
            return SIMD3(0.15, 0.35, -0.9) * (amplitude * sin(atrialPhase))
        case .flutter:
            // Slow descent over three quarters of the 0.2 s cycle, fast return: the inferior-lead sawtooth.
            let phase = (time / 0.2).truncatingRemainder(dividingBy: 1)
            let saw = phase < 0.75 ? 0.5 - phase / 0.75 : -0.5 + (phase - 0.75) / 0.25
            return SIMD3(0.02, 0.22, -0.10) * saw
        case .sinus, .tachy, .brady, .pvc:
            return SIMD3(0, 0, 0)
        }
    }
}
