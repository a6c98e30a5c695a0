/// A causal multi-lead QRS detector, fed one multi-lead sample at a time at the input rate (100–1000 Hz).
///
/// Per lead: a 5–15 Hz Butterworth band-pass (a 2nd-order high-pass and a 2nd-order low-pass), a two-sample
/// slope in mV/s, squared into a slope energy, divided by the lead's running QRS peak slope energy so that leads
/// of any amplitude compare. The leads' normalised energies are averaged with weights equal to the sixth power
/// of each lead's QRS peak-to-mean energy ratio, measured at every beat: the detector trusts the lead(s) where
/// the QRS stands out of the noise most (``leadWeights``, ``trustedLead``); a lead with invalid samples (NaN,
/// lead off) is left out until its filters settle. The average is integrated over a 150 ms moving window, and
/// the peaks of the integral are judged in the manner of Pan and Tompkins (1985): adaptive QRS and noise peak
/// levels (their ratio is the noise estimate, ``noiseRatio``), a threshold 0.3 of the way between them, a 200 ms
/// refractory period, a T-wave test within 360 ms of the previous beat (a complex with less than half the
/// previous beat's steepest slope is a T wave, so tall T waves are not counted twice), 1.5 times the threshold
/// for a complex sooner than half the mean RR interval, a second lead's confirmation for a complex sooner than
/// 0.85 mean RR intervals (a complex only one lead sees there is an electrode's artefact), and a search back at
/// half the threshold when no beat came for 1.66 mean RR intervals. Whatever the threshold, a complex whose steepest
/// band-passed slope stays below 3 mV/s in every lead is noise, so a flat line in asystole yields no beats; and
/// in a long pause with nothing near the threshold, the QRS level drifts down towards the peaks seen, so that an
/// artefact that raised it cannot silence the detector. The first 2 s set the lead scales and levels.
///
/// Delay: a beat is reported when its integrated peak has stayed the largest value for
/// `peakConfirmationSeconds`; its fiducial point lies at most `integrationSeconds` before that peak, and it is
/// moved back by the filters' group delay, so every beat except those found by search-back is reported at most
/// ``maxDelaySamples`` after its fiducial point: 0.15 s + 0.10 s + a group delay of 0.036 s, so 0.29 s at
/// 250–1000 Hz and 0.30 s at 100 Hz (rounding to whole samples) with the defaults. Beats found by
/// search-back come when the search fires, up to 1.66 mean RR intervals after the previous beat, and say so.
///
/// Memory is fixed at construction (a ring of a few hundred milliseconds per lead); ``process(_:)`` allocates
/// nothing. Pacemaker spikes are not handled: a pacing artefact is steep and can be counted as a QRS, so paced
/// rhythms need a pace-pulse detector in front (not built).
public struct QRSDetector: Sendable {
    /// Input rate, Hz.
    public let sampleRateHz: Double
    /// Leads per sample.
    public let leadCount: Int
    /// The constants in use.
    public let configuration: Configuration
    /// The largest delay between a beat's fiducial point and the sample that reports it (search-back aside).
    public let maxDelaySamples: Int
    /// Samples processed so far; the index the next sample will have.
    public private(set) var sampleIndex = 0

    // MARK: - Constants in samples

    let highPass: Biquad
    let lowPass: Biquad
    /// Converts a two-sample difference to mV/s.
    let slopeScale: Float
    let integrationSamples: Int
    let confirmationSamples: Int
    let refractorySamples: Int
    let tWaveWindowSamples: Int
    let learningSamples: Int
    /// The square of the smallest QRS slope counted as a beat.
    let minQRSSlopeEnergy: Float
    let invalidHoldSamples: Int
    let groupDelaySamples: Int
    let leadScaleRate: Float
    let ringMask: Int

    // MARK: - Per-lead state

    /// One lead's filter and level state, kept together so that a sample's update of a lead touches one record.
    struct LeadState {
        /// High-pass z1, z2.
        var highZ1: Float = 0
        var highZ2: Float = 0
        /// Low-pass z1, z2.
        var lowZ1: Float = 0
        var lowZ2: Float = 0
        /// The band-passed value one and two samples ago.
        var band1: Float = 0
        var band2: Float = 0
        /// The last finite input, held through invalid samples; NaN before the first.
        var lastValidInput: Float = .nan
        /// Samples the lead still stays out of the detection after an invalid sample.
        var invalidHold = 0
        /// Running mean slope energy, (mV/s)².
        var meanEnergy: Float = 0
        /// Running QRS peak slope energy, (mV/s)²: the lead's normalisation.
        var qrsEnergy: Float = 0
        /// The QRS peak-to-mean slope energy ratio at the last beat.
        var weight: Float = 1
    }

    var leads: [LeadState]
    /// Slope energy of every lead over the last ring length, (mV/s)²: `[ring position][lead]`.
    var leadEnergyRing: [Float]

    // MARK: - Combined state

    /// The weighted mean of the leads' normalised slope energies over the last ring length.
    var combinedRing: [Float]
    /// Running sum of the last `integrationSamples` combined energies.
    var integralSum: Double = 0
    var previousIntegral: Float = 0
    var peaks: PeakState

    /// Creates a detector.
    ///
    /// - Parameters:
    ///   - sampleRateHz: 100…1000 Hz.
    ///   - leadCount: 1 or more; each sample passed to ``process(_:)`` has this many values.
    ///   - configuration: the constants.
    public init(sampleRateHz: Double, leadCount: Int, configuration: Configuration = Configuration()) {
        precondition((100...1000).contains(sampleRateHz), "QRS detection needs 100…1000 Hz, got \(sampleRateHz)")
        precondition(leadCount >= 1, "QRS detection needs at least one lead")
        precondition(configuration.lowPassHz < sampleRateHz / 2 && configuration.highPassHz < configuration.lowPassHz)
        self.sampleRateHz = sampleRateHz
        self.leadCount = leadCount
        self.configuration = configuration
        func samples(_ seconds: Double) -> Int { max(1, Int((seconds * sampleRateHz).rounded())) }
        highPass = .butterworthHighPass(cutoffHz: configuration.highPassHz, sampleRateHz: sampleRateHz)
        lowPass = .butterworthLowPass(cutoffHz: configuration.lowPassHz, sampleRateHz: sampleRateHz)
        slopeScale = Float(sampleRateHz / 2)
        integrationSamples = samples(configuration.integrationSeconds)
        confirmationSamples = samples(configuration.peakConfirmationSeconds)
        refractorySamples = samples(configuration.refractorySeconds)
        tWaveWindowSamples = samples(configuration.tWaveWindowSeconds)
        learningSamples = samples(configuration.learningSeconds)
        minQRSSlopeEnergy = Float(
            configuration.minQRSSlopeMillivoltsPerSecond * configuration.minQRSSlopeMillivoltsPerSecond
        )
        invalidHoldSamples = samples(configuration.invalidLeadHoldSeconds)
        leadScaleRate = Float(1 / (configuration.leadScaleSeconds * sampleRateHz))
        let centreHz = (configuration.highPassHz * configuration.lowPassHz).squareRoot()
        groupDelaySamples = Int(
            Self.groupDelaySamples(highPass, lowPass, atHz: centreHz, sampleRateHz: sampleRateHz).rounded()
        )
        maxDelaySamples = integrationSamples + confirmationSamples + groupDelaySamples
        var ringLength = 1
        while ringLength < integrationSamples + confirmationSamples + 2 { ringLength *= 2 }
        ringMask = ringLength - 1
        leads = Array(repeating: LeadState(), count: leadCount)
        leadEnergyRing = [Float](repeating: 0, count: ringLength * leadCount)
        combinedRing = [Float](repeating: 0, count: ringLength)
        peaks = PeakState()
    }

    /// Group delay of the band-pass and the two-sample slope at `frequencyHz`, samples.
    static func groupDelaySamples(_ highPass: Biquad, _ lowPass: Biquad, atHz frequencyHz: Double, sampleRateHz: Double)
        -> Double
    {
        let step = 0.01 * frequencyHz
        func phase(_ hz: Double) -> Double {
            highPass.phase(atHz: hz, sampleRateHz: sampleRateHz) + lowPass.phase(atHz: hz, sampleRateHz: sampleRateHz)
        }
        var difference = phase(frequencyHz + step) - phase(frequencyHz - step)
        while difference > Double.pi { difference -= 2 * Double.pi }
        while difference < -Double.pi { difference += 2 * Double.pi }
        let radiansPerSample = 2 * Double.pi * (2 * step) / sampleRateHz
        return -difference / radiansPerSample + 1
    }

    // MARK: - Reading the state

    /// Each lead's weight in the detection, summing to 1 over the leads in use; 0 for a lead left out.
    public var leadWeights: [Float] {
        let usable = leads.map { $0.invalidHold == 0 ? $0.weight : 0 }
        let total = usable.reduce(0, +)
        return total > 0 ? usable.map { $0 / total } : usable
    }

    /// The lead the detector trusts most (largest weight), or nil when every lead is left out.
    public var trustedLead: Int? {
        let weights = leadWeights
        guard let best = weights.indices.max(by: { weights[$0] < weights[$1] }), weights[best] > 0 else { return nil }
        return best
    }

    /// Leads currently used for detection (no invalid sample within the hold time).
    public var usableLeadCount: Int { leads.count { $0.invalidHold == 0 } }

    /// The noise estimate: the running noise peak level over the running QRS peak level of the integrated
    /// signal, 0 (clean) to 1 and above (noise as large as the QRS complexes); nil while learning.
    public var noiseRatio: Float? {
        guard peaks.learned, peaks.qrsLevel > 0 else { return nil }
        return peaks.noiseLevel / peaks.qrsLevel
    }

    /// The index of the last beat reported, or nil before the first.
    public var lastBeatSampleIndex: Int? { peaks.lastBeat }

    // MARK: - Processing

    /// Processes one sample of every lead.
    ///
    /// - Parameter frame: `leadCount` values in millivolts; NaN or infinite marks an invalid sample (lead off).
    /// - Returns: the beat this sample completes, if any.
    /// - Complexity: O(leads), no allocation.
    public mutating func process(_ frame: UnsafeBufferPointer<Float>) -> DetectedBeat? {
        assert(frame.count == leadCount)
        let n = sampleIndex
        sampleIndex += 1
        let position = n & ringMask
        let ringBase = position * leadCount
        let meanRate = max(leadScaleRate, 1 / Float(n + 1))
        let learned = peaks.learned
        let (highPass, lowPass, slopeScale) = (highPass, lowPass, slopeScale)
        let (minQRSSlopeEnergy, invalidHoldSamples) = (minQRSSlopeEnergy, invalidHoldSamples)
        var combined: Float = 0
        var usableWeight: Float = 0
        // One pass over contiguous records through unsafe buffers: per element, array access would check
        // uniqueness and bounds of eight arrays for each lead of each sample, half of the detector's time.
        leads.withUnsafeMutableBufferPointer { leads in
            leadEnergyRing.withUnsafeMutableBufferPointer { ring in
                for lead in 0..<leads.count {
                    var state = leads[lead]
                    var x = frame[lead]
                    if x.isFinite {
                        if state.lastValidInput.isNaN {
                            // As if `x` had always been the input, so that a record or stream starting off the
                            // zero line does not open with a step the size of its offset.
                            state.highZ1 = -highPass.b0 * x
                            state.highZ2 = highPass.b2 * x
                        }
                        state.lastValidInput = x
                        if state.invalidHold > 0 { state.invalidHold -= 1 }
                    } else {
                        x = state.lastValidInput.isNaN ? 0 : state.lastValidInput
                        state.invalidHold = invalidHoldSamples
                    }
                    let band = lowPass.step(highPass.step(x, &state.highZ1, &state.highZ2), &state.lowZ1, &state.lowZ2)
                    let slope = (band - state.band2) * slopeScale
                    state.band2 = state.band1
                    state.band1 = band
                    let energy = slope * slope
                    state.meanEnergy += (energy - state.meanEnergy) * meanRate
                    ring[ringBase + lead] = energy
                    var normalised = energy / max(state.qrsEnergy, minQRSSlopeEnergy)
                    if !learned {
                        // Normalised by the largest energy so far, the rising edge of the first QRS would be many
                        // times its size once scaled; capped at 1 the learned levels match what detection will see.
                        state.qrsEnergy = max(state.qrsEnergy, energy)
                        normalised = min(normalised, 1)
                    }
                    if state.invalidHold == 0 {
                        combined += state.weight * normalised
                        usableWeight += state.weight
                    }
                    leads[lead] = state
                }
            }
        }
        if usableWeight > 0 { combined /= usableWeight }
        combinedRing[position] = combined
        integralSum += Double(combined) - Double(combinedRing[(n - integrationSamples) & ringMask])
        let integral = Float(integralSum / Double(integrationSamples))
        defer { previousIntegral = integral }
        return judge(integral: integral, at: n)
    }

    /// Processes one sample of every lead given as an array.
    ///
    /// - Parameter frame: `leadCount` values in millivolts; NaN or infinite marks an invalid sample.
    public mutating func process(_ frame: [Float]) -> DetectedBeat? {
        frame.withUnsafeBufferPointer { process($0) }
    }

    /// Processes interleaved frames `[sample][lead]`, as many whole frames as `frames` holds.
    ///
    /// - Returns: the beats these samples complete, in order.
    public mutating func process(interleaved frames: UnsafeBufferPointer<Float>) -> [DetectedBeat] {
        var beats: [DetectedBeat] = []
        for start in stride(from: 0, to: frames.count - leadCount + 1, by: leadCount) {
            if let beat = process(UnsafeBufferPointer(rebasing: frames[start..<start + leadCount])) {
                beats.append(beat)
            }
        }
        return beats
    }
}
