import Glibc

/// Measures noise, baseline wander and mains interference of every lead, incrementally, for the windows of
/// one stream.
///
/// At the model's rate, per lead and per block of `blockSamples` (about 0.1 s, dividing window and hop so
/// that every window is a whole number of blocks), it keeps the power of the second difference, the block's
/// mean and sum of squared deviations, its extremes (a window's peak-to-peak, for the flat-line check), and the
/// extremes of the signal low-passed at 0.5 Hz, in rings of one window's blocks: a few floats per block instead
/// of the window's samples. A window's noise power is the second difference's power in its quietest quarter of
/// blocks divided by the second difference's power gain for white noise over the band the signal occupies: QRS
/// complexes, whose slopes dominate the second difference of a clean ECG, occupy at most half the blocks even
/// at 150 bpm, while muscle noise is in every block. Measured at the model's rate, the estimate covers the band
/// the model sees: up to the Nyquist frequency when the input comes at the model's rate (gain 6), up to the
/// middle of the resampler's transition band otherwise (45 Hz for a 100 Hz model, gain 4.9), so that noise
/// white in that band reads the same whatever the input rate; noise the resampler removed does not count.
///
/// Mains interference (50 and 60 Hz) is measured at the input rate, before the resampler, with one resonator
/// per frequency and lead, when the input rate exceeds 150 Hz. Below that the mains frequencies are at or
/// beyond the input's Nyquist frequency (at 100 Hz, 50 Hz is the Nyquist frequency and 60 Hz appears at
/// 40 Hz), cannot be told from the ECG, and count only as noise in the model's band.
///
/// Allocates only in `init`.
final class SignalQualityMeter {
    /// Samples per block at the model's rate.
    let blockSamples: Int
    /// Blocks per window.
    let windowBlocks: Int
    let leadCount: Int
    private let thresholds: SignalQualityThresholds
    /// Power gain of the second difference for noise white up to the band edge.
    private let noiseGain: Double

    // Per lead, at the model's rate.
    private let previous: UnsafeMutablePointer<Double>
    private let beforePrevious: UnsafeMutablePointer<Double>
    private let wanderState: UnsafeMutablePointer<Double>
    private let wander: SecondOrderSection
    private var started = false
    // The block being filled, per lead.
    private let blockDifferencePower: UnsafeMutablePointer<Double>
    private let blockMean: UnsafeMutablePointer<Double>
    private let blockDeviation: UnsafeMutablePointer<Double>
    private let blockLow: UnsafeMutablePointer<Double>
    private let blockHigh: UnsafeMutablePointer<Double>
    private let blockMinimum: UnsafeMutablePointer<Float>
    private let blockMaximum: UnsafeMutablePointer<Float>
    private var blockFill = 0
    // Completed blocks: `[lead][windowBlocks]` rings, index `completedBlocks % windowBlocks` next.
    private let ringDifferencePower: UnsafeMutablePointer<Float>
    private let ringMean: UnsafeMutablePointer<Float>
    private let ringDeviation: UnsafeMutablePointer<Float>
    private let ringLow: UnsafeMutablePointer<Float>
    private let ringHigh: UnsafeMutablePointer<Float>
    private let ringMinimum: UnsafeMutablePointer<Float>
    private let ringMaximum: UnsafeMutablePointer<Float>
    private var completedBlocks = 0
    private let scratch: UnsafeMutablePointer<Float>

    // Per lead and mains frequency, at the input rate.
    private let mains: [SecondOrderSection]
    private let mainsState: UnsafeMutablePointer<Double>
    private let mainsPower: UnsafeMutablePointer<Double>
    private let mainsSmoothing: Double

    /// Creates a meter with empty history.
    ///
    /// - Parameters:
    ///   - leadCount: leads per instant.
    ///   - modelRateHz: rate of ``appendOutput(_:)``.
    ///   - inputRateHz: rate of ``appendInput(_:)``.
    ///   - bandEdgeHz: the highest frequency of the model-rate signal: half the model's rate when no resampler
    ///     filters it, else the middle of the resampler's transition band.
    ///   - windowSamples: window length at the model's rate.
    ///   - hopSamples: hop at the model's rate.
    ///   - thresholds: what makes a lead noisy, wandering or mains-affected.
    init(
        leadCount: Int,
        modelRateHz: Int,
        inputRateHz: Int,
        bandEdgeHz: Double,
        windowSamples: Int,
        hopSamples: Int,
        thresholds: SignalQualityThresholds
    ) {
        precondition(leadCount >= 1 && windowSamples >= 1 && hopSamples >= 1, "positive sizes")
        self.leadCount = leadCount
        self.thresholds = thresholds
        blockSamples = Self.blockSamples(
            windowSamples: windowSamples,
            hopSamples: hopSamples,
            longestSamples: max(1, modelRateHz / 10)
        )
        windowBlocks = windowSamples / blockSamples
        noiseGain = Self.secondDifferenceGain(bandFraction: min(0.5, bandEdgeHz / Double(modelRateHz)))
        wander = Self.butterworthLowPass(cutoffHz: 0.5, rateHz: Double(modelRateHz))
        mains =
            inputRateHz > 150
            ? [50.0, 60.0].map { Self.resonator(centreHz: $0, bandwidthHz: 2, rateHz: Double(inputRateHz)) } : []
        // Power averaged over about one second of input.
        mainsSmoothing = 1 / Double(inputRateHz)

        func doubles(_ count: Int) -> UnsafeMutablePointer<Double> {
            let pointer = UnsafeMutablePointer<Double>.allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
            return pointer
        }
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
            return pointer
        }
        previous = doubles(leadCount)
        beforePrevious = doubles(leadCount)
        wanderState = doubles(2 * leadCount)
        blockDifferencePower = doubles(leadCount)
        blockMean = doubles(leadCount)
        blockDeviation = doubles(leadCount)
        blockLow = doubles(leadCount)
        blockHigh = doubles(leadCount)
        ringDifferencePower = floats(leadCount * windowBlocks)
        ringMean = floats(leadCount * windowBlocks)
        ringDeviation = floats(leadCount * windowBlocks)
        ringLow = floats(leadCount * windowBlocks)
        ringHigh = floats(leadCount * windowBlocks)
        blockMinimum = floats(leadCount)
        blockMaximum = floats(leadCount)
        ringMinimum = floats(leadCount * windowBlocks)
        ringMaximum = floats(leadCount * windowBlocks)
        scratch = floats(windowBlocks)
        mainsState = doubles(max(1, 2 * mains.count * leadCount))
        mainsPower = doubles(max(1, mains.count * leadCount))
    }

    deinit {
        for pointer in [
            previous, beforePrevious, wanderState, blockDifferencePower, blockMean, blockDeviation, blockLow,
            blockHigh, mainsState, mainsPower,
        ] {
            pointer.deallocate()
        }
        for pointer in [
            ringDifferencePower, ringMean, ringDeviation, ringLow, ringHigh, blockMinimum, blockMaximum, ringMinimum,
            ringMaximum, scratch,
        ] {
            pointer.deallocate()
        }
    }

    /// The longest block of at most `longestSamples` that divides both window and hop.
    static func blockSamples(windowSamples: Int, hopSamples: Int, longestSamples: Int) -> Int {
        var (a, b) = (windowSamples, hopSamples)
        while b != 0 { (a, b) = (b, a % b) }
        return (1...min(a, longestSamples)).last { a % $0 == 0 } ?? 1
    }

    // MARK: - Input rate

    /// Feeds one input instant (model lead order, mV) to the mains resonators.
    ///
    /// - Complexity: O(leads) when the input rate allows a mains measurement, O(1) otherwise.
    func appendInput(_ values: UnsafePointer<Float>) {
        guard !mains.isEmpty else { return }
        for (index, section) in mains.enumerated() {
            for lead in 0..<leadCount {
                let slot = index * leadCount + lead
                let z = mainsState + 2 * slot
                let x = Double(values[lead])
                let y = section.b0 * x + z[0]
                z[0] = section.b1 * x - section.a1 * y + z[1]
                z[1] = section.b2 * x - section.a2 * y
                mainsPower[slot] += mainsSmoothing * (y * y - mainsPower[slot])
            }
        }
    }

    // MARK: - Model rate

    /// Feeds one model-rate instant (model lead order, mV, finite).
    ///
    /// - Complexity: O(leads).
    func appendOutput(_ values: UnsafePointer<Float>) {
        if !started {
            started = true
            for lead in 0..<leadCount {
                // A stream starts as if its first value had always been there, like the resampler.
                let x = Double(values[lead])
                previous[lead] = x
                beforePrevious[lead] = x
                wanderState[2 * lead] = x * (1 - wander.b0)
                wanderState[2 * lead + 1] = x * (wander.b2 - wander.a2)
            }
        }
        let fill = Double(blockFill + 1)
        for lead in 0..<leadCount {
            let x = Double(values[lead])
            let difference = x - 2 * previous[lead] + beforePrevious[lead]
            beforePrevious[lead] = previous[lead]
            previous[lead] = x
            let z = wanderState + 2 * lead
            let baseline = wander.b0 * x + z[0]
            z[0] = wander.b1 * x - wander.a1 * baseline + z[1]
            z[1] = wander.b2 * x - wander.a2 * baseline
            blockDifferencePower[lead] += difference * difference
            // Welford's update keeps the block's deviation exact whatever the lead's offset.
            let delta = x - blockMean[lead]
            blockMean[lead] += delta / fill
            blockDeviation[lead] += delta * (x - blockMean[lead])
            if blockFill == 0 {
                blockLow[lead] = baseline
                blockHigh[lead] = baseline
                blockMinimum[lead] = values[lead]
                blockMaximum[lead] = values[lead]
            } else {
                blockLow[lead] = min(blockLow[lead], baseline)
                blockHigh[lead] = max(blockHigh[lead], baseline)
                blockMinimum[lead] = min(blockMinimum[lead], values[lead])
                blockMaximum[lead] = max(blockMaximum[lead], values[lead])
            }
        }
        blockFill += 1
        if blockFill == blockSamples { completeBlock() }
    }

    private func completeBlock() {
        let slot = completedBlocks % windowBlocks
        for lead in 0..<leadCount {
            let index = lead * windowBlocks + slot
            ringDifferencePower[index] = Float(blockDifferencePower[lead] / Double(blockSamples))
            ringMean[index] = Float(blockMean[lead])
            ringDeviation[index] = Float(blockDeviation[lead])
            ringLow[index] = Float(blockLow[lead])
            ringHigh[index] = Float(blockHigh[lead])
            ringMinimum[index] = blockMinimum[lead]
            ringMaximum[index] = blockMaximum[lead]
            blockDifferencePower[lead] = 0
            blockMean[lead] = 0
            blockDeviation[lead] = 0
        }
        blockFill = 0
        completedBlocks += 1
    }

    // MARK: - Window

    /// What the meter found for one lead over the last window.
    struct LeadMeasures: Equatable {
        /// Estimated noise power over the window's variance.
        var noiseRatio: Double
        /// Variance of the window, mV².
        var varianceMillivoltsSquared: Double
        /// Peak-to-peak movement of the 0.5 Hz low-passed signal, mV.
        var wanderMillivolts: Double
        /// Peak-to-peak of the signal itself, mV.
        var peakToPeakMillivolts: Float
        /// Amplitude of the stronger mains component at the input, mV; 0 when the input rate is too low.
        var mainsMillivolts: Double
    }

    /// The measures of `lead` over the last `windowBlocks` blocks.
    ///
    /// - Important: call only when a window ends, after at least one window of samples.
    /// - Complexity: O(windowBlocks²) for the quartile (windowBlocks is 25 for a 2.5 s window at 100 Hz).
    func measures(lead: Int) -> LeadMeasures {
        precondition(blockFill == 0 && completedBlocks >= windowBlocks, "windows end on block boundaries")
        let row = lead * windowBlocks
        var meanSum = 0.0
        var low = Float.infinity
        var high = -Float.infinity
        var minimum = Float.infinity
        var maximum = -Float.infinity
        for block in 0..<windowBlocks {
            scratch[block] = ringDifferencePower[row + block]
            meanSum += Double(ringMean[row + block])
            low = min(low, ringLow[row + block])
            high = max(high, ringHigh[row + block])
            minimum = min(minimum, ringMinimum[row + block])
            maximum = max(maximum, ringMaximum[row + block])
        }
        let mean = meanSum / Double(windowBlocks)
        var deviation = 0.0
        for block in 0..<windowBlocks {
            let offset = Double(ringMean[row + block]) - mean
            deviation += Double(ringDeviation[row + block]) + Double(blockSamples) * offset * offset
        }
        let variance = deviation / Double(windowBlocks * blockSamples)
        let noise = Double(Self.select(rank: windowBlocks / 4, in: scratch, count: windowBlocks)) / noiseGain
        var mainsPeak = 0.0
        for index in mains.indices { mainsPeak = max(mainsPeak, mainsPower[index * leadCount + lead]) }
        return LeadMeasures(
            noiseRatio: variance > 0 ? noise / variance : 0,
            varianceMillivoltsSquared: variance,
            wanderMillivolts: Double(high - low),
            peakToPeakMillivolts: maximum - minimum,
            mainsMillivolts: (2 * mainsPeak).squareRoot()
        )
    }

    /// Adds the flat, noisy, wandering and mains-affected leads of the last window to `quality`.
    func assess(into quality: inout SignalQuality) {
        let flatLimit = Float(thresholds.flatLinePeakToPeakMillivolts)
        for lead in 0..<leadCount {
            let measured = measures(lead: lead)
            let set = LeadSet(leadIndex: lead)
            if measured.peakToPeakMillivolts < flatLimit { quality.flatLeads.insert(set) }
            if measured.noiseRatio > thresholds.noiseRatio { quality.noisyLeads.insert(set) }
            if measured.wanderMillivolts > thresholds.baselineWanderMillivolts { quality.wanderingLeads.insert(set) }
            if measured.mainsMillivolts > thresholds.powerlineMillivolts { quality.powerlineLeads.insert(set) }
        }
    }

    /// The `rank`-th smallest of `count` values (0 is the smallest), sorting them in place by insertion.
    private static func select(rank: Int, in values: UnsafeMutablePointer<Float>, count: Int) -> Float {
        for index in 1..<max(count, 1) {
            let value = values[index]
            var position = index
            while position > 0 && values[position - 1] > value {
                values[position] = values[position - 1]
                position -= 1
            }
            values[position] = value
        }
        return values[rank]
    }

    // MARK: - Filters

    /// The mean of |1 − e^{−iω}|⁴ = 16 sin⁴(ω/2) over frequencies 0…`bandFraction` of the rate: the power gain of
    /// the second difference for noise white up to there (6 up to the Nyquist frequency).
    static func secondDifferenceGain(bandFraction: Double) -> Double {
        let x = bandFraction
        let first = sin(2 * Double.pi * x) / (2 * Double.pi * x)
        let second = sin(4 * Double.pi * x) / (4 * Double.pi * x)
        return 16 * (3.0 / 8 - first / 2 + second / 8)
    }

    /// Second-order Butterworth low-pass by the bilinear transform with pre-warping, unit gain at DC.
    static func butterworthLowPass(cutoffHz: Double, rateHz: Double) -> SecondOrderSection {
        let k = tan(Double.pi * cutoffHz / rateHz)
        let q = 2.0.squareRoot()
        let norm = 1 / (1 + q * k + k * k)
        let b0 = k * k * norm
        return SecondOrderSection(
            b0: b0,
            b1: 2 * b0,
            b2: b0,
            a1: 2 * (k * k - 1) * norm,
            a2: (1 - q * k + k * k) * norm
        )
    }

    /// A band-pass resonator with unit gain at `centreHz` (RBJ's constant 0 dB peak band-pass).
    static func resonator(centreHz: Double, bandwidthHz: Double, rateHz: Double) -> SecondOrderSection {
        let omega = 2 * Double.pi * centreHz / rateHz
        let alpha = sin(omega) * sinh(log(2) / 2 * (bandwidthHz / centreHz) * omega / sin(omega))
        let norm = 1 / (1 + alpha)
        return SecondOrderSection(
            b0: alpha * norm,
            b1: 0,
            b2: -alpha * norm,
            a1: -2 * cos(omega) * norm,
            a2: (1 - alpha) * norm
        )
    }

    // MARK: - Testing

    /// Checks the block counters; tests call it after every mutation.
    func testOnly_checkInvariants() {
        precondition(0 <= blockFill && blockFill < blockSamples)
        for lead in 0..<leadCount {
            precondition(wanderState[2 * lead].isFinite && wanderState[2 * lead + 1].isFinite)
        }
    }
}
