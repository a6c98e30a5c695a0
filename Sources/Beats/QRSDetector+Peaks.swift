extension QRSDetector {
    /// The judgement of integrated peaks: levels, the last beat, RR history and the search-back candidate.
    struct PeakState: Sendable {
        /// RR intervals kept for the search-back's mean RR.
        static let rrHistoryLength = 8

        /// Whether the first levels are set; until then each lead is normalised by its largest slope energy so
        /// far, which makes the integral of the largest QRS seen about what it will be once detecting.
        var learned = false
        var learningMax: Float = 0
        var learningSum: Double = 0
        /// Running QRS and noise peak levels of the integrated signal.
        var qrsLevel: Float = 0
        var noiseLevel: Float = 0
        /// Whether a rising integral is being followed towards its peak.
        var tracking = false
        var candidateValue: Float = 0
        var candidateIndex = 0
        var lastBeat: Int?
        var lastBeatSlopeEnergy: Float = 0
        var rrIntervals = [Int](repeating: 0, count: rrHistoryLength)
        var rrCount = 0
        /// The largest peak since the last beat that failed the threshold but passed the search-back one.
        var searchBack: Candidate?
    }

    /// A judged integrated peak: its height, its fiducial sample, and the combined slope energy there.
    struct Candidate: Sendable {
        var value: Float
        var fiducial: Int
        var slopeEnergy: Float
    }

    /// Mean of the recent RR intervals in samples (one second before any).
    var meanRRSamples: Double {
        guard peaks.rrCount > 0 else { return sampleRateHz }
        let count = min(peaks.rrCount, PeakState.rrHistoryLength)
        return Double(peaks.rrIntervals.prefix(count).reduce(0, +)) / Double(count)
    }

    /// Follows the integrated signal `integral` at sample `n` and judges each peak once it is confirmed.
    mutating func judge(integral: Float, at n: Int) -> DetectedBeat? {
        guard peaks.learned else {
            // The first half only sets the lead scales: until a lead's largest energy has been seen, its
            // normalised energy is inflated and the integral with it.
            let levelSamples = learningSamples - learningSamples / 2
            guard n >= learningSamples / 2 else { return nil }
            peaks.learningMax = max(peaks.learningMax, integral)
            peaks.learningSum += Double(integral)
            if n + 1 >= learningSamples {
                peaks.learned = true
                peaks.qrsLevel = 0.5 * peaks.learningMax
                peaks.noiseLevel = Float(0.5 * peaks.learningSum / Double(levelSamples))
            }
            return nil
        }
        var beat: DetectedBeat?
        if peaks.tracking {
            if integral > peaks.candidateValue {
                peaks.candidateValue = integral
                peaks.candidateIndex = n
            } else if n - peaks.candidateIndex >= confirmationSamples {
                peaks.tracking = false
                beat = judgePeak(value: peaks.candidateValue, peakIndex: peaks.candidateIndex, at: n)
            }
        } else if integral > previousIntegral {
            peaks.tracking = true
            peaks.candidateValue = integral
            peaks.candidateIndex = n
        }
        if beat == nil, let candidate = peaks.searchBack, overdue(at: n) {
            beat = accept(candidate, at: n, bySearchBack: true)
        }
        return beat
    }

    /// Whether no beat came for longer than the search-back limit, since the last beat or, before the first,
    /// since the end of learning.
    private func overdue(at n: Int) -> Bool {
        let last = peaks.lastBeat ?? learningSamples
        return Double(n - last) > configuration.searchBackRRFactor * meanRRSamples
    }

    /// Judges the integrated peak of height `value` at `peakIndex`: a beat, a T wave, or noise.
    private mutating func judgePeak(value: Float, peakIndex: Int, at n: Int) -> DetectedBeat? {
        let candidate = fiducialPoint(value: value, peakIndex: peakIndex)
        let threshold = peaks.noiseLevel + configuration.thresholdFraction * (peaks.qrsLevel - peaks.noiseLevel)
        var beatThreshold = threshold
        var tWave = false
        var seenByOneLead = false
        let steepest = candidate.fiducial + groupDelaySamples
        if let last = peaks.lastBeat {
            let distance = candidate.fiducial - last
            if distance < refractorySamples { return nil }
            // Noise and large T waves sit early in the cycle, where real premature beats are large: there a
            // direct detection needs a higher threshold; search-back still takes them at the usual one.
            if Double(distance) < configuration.prematureRRFraction * meanRRSamples {
                beatThreshold *= configuration.prematureThresholdFactor
            }
            let slopeRatio = configuration.tWaveSlopeRatio
            tWave =
                distance < tWaveWindowSamples
                && candidate.slopeEnergy < slopeRatio * slopeRatio * peaks.lastBeatSlopeEnergy
            // Noise from one electrode falls anywhere in the cycle, and a regular beat comes late in it; an early
            // candidate that only one lead sees is left to the search-back, which takes it if no beat follows.
            seenByOneLead =
                Double(distance) < configuration.secondLeadRRFraction * meanRRSamples
                && secondLeadEnergy(aroundSteepest: steepest) < configuration.secondLeadEnergyFraction
        }
        let steepEnough = largestLeadEnergy(aroundSteepest: steepest) >= minQRSSlopeEnergy
        if value > beatThreshold, !tWave, !seenByOneLead, steepEnough {
            return accept(candidate, at: n, bySearchBack: false)
        }
        let weight = configuration.peakLevelWeight
        if overdue(at: n), peaks.searchBack == nil {
            // A long pause with nothing near the threshold: the QRS level may be stuck above the beats after
            // an artefact, so it drifts towards the peaks seen; the slope floor still keeps noise out.
            peaks.qrsLevel = max(peaks.noiseLevel, peaks.qrsLevel + weight * (value - peaks.qrsLevel))
        }
        peaks.noiseLevel += weight * (value - peaks.noiseLevel)
        if !tWave, steepEnough, value > configuration.searchBackFraction * threshold,
            value > peaks.searchBack?.value ?? 0
        {
            peaks.searchBack = candidate
        }
        return nil
    }

    /// The steepest point of the combined slope energy in the integration window ending at `peakIndex`,
    /// moved back by the group delay.
    private func fiducialPoint(value: Float, peakIndex: Int) -> Candidate {
        var bestIndex = peakIndex
        var bestEnergy: Float = -1
        for index in max(0, peakIndex - integrationSamples + 1)...peakIndex {
            let energy = combinedRing[index & ringMask]
            if energy > bestEnergy {
                bestEnergy = energy
                bestIndex = index
            }
        }
        return Candidate(value: value, fiducial: max(0, bestIndex - groupDelaySamples), slopeEnergy: bestEnergy)
    }

    /// The samples within half an integration window of `steepest` that the ring still holds.
    private func neighbourhood(of steepest: Int) -> ClosedRange<Int>? {
        let half = integrationSamples / 2
        let first = max(0, steepest - half, sampleIndex - ringMask)
        let last = min(steepest + half, sampleIndex - 1)
        return first <= last ? first...last : nil
    }

    /// The largest slope energy of any usable lead near `steepest`, (mV/s)².
    private func largestLeadEnergy(aroundSteepest steepest: Int) -> Float {
        guard let range = neighbourhood(of: steepest) else { return 0 }
        var largest: Float = 0
        for lead in 0..<leadCount where leads[lead].invalidHold == 0 {
            largest = max(largest, peakEnergy(of: lead, over: range))
        }
        return largest
    }

    /// The largest slope energy of `lead` over the ring positions of `range`, (mV/s)².
    private func peakEnergy(of lead: Int, over range: ClosedRange<Int>) -> Float {
        var peak: Float = 0
        for index in range {
            peak = max(peak, leadEnergyRing[(index & ringMask) * leadCount + lead])
        }
        return peak
    }

    /// The second largest slope energy near `steepest` among the usable leads, each as a fraction of its running
    /// QRS slope energy; infinite when fewer than two leads are usable, so that one lead alone is never doubted.
    private func secondLeadEnergy(aroundSteepest steepest: Int) -> Float {
        guard usableLeadCount >= 2, let range = neighbourhood(of: steepest) else { return .infinity }
        var largest: Float = 0
        var second: Float = 0
        for lead in 0..<leadCount where leads[lead].invalidHold == 0 {
            let relative = peakEnergy(of: lead, over: range) / max(leads[lead].qrsEnergy, minQRSSlopeEnergy)
            if relative > largest {
                second = largest
                largest = relative
            } else if relative > second {
                second = relative
            }
        }
        return second
    }

    /// Records `candidate` as a beat reported at sample `n`.
    private mutating func accept(_ candidate: Candidate, at n: Int, bySearchBack: Bool) -> DetectedBeat {
        let weight = bySearchBack ? 2 * configuration.peakLevelWeight : configuration.peakLevelWeight
        peaks.qrsLevel += weight * (candidate.value - peaks.qrsLevel)
        if let last = peaks.lastBeat {
            peaks.rrIntervals[peaks.rrCount % PeakState.rrHistoryLength] = candidate.fiducial - last
            peaks.rrCount += 1
        }
        peaks.lastBeat = candidate.fiducial
        peaks.lastBeatSlopeEnergy = candidate.slopeEnergy
        peaks.searchBack = nil
        updateLeads(aroundSteepest: candidate.fiducial + groupDelaySamples)
        return DetectedBeat(sampleIndex: candidate.fiducial, emittedAtSampleIndex: n, foundBySearchBack: bySearchBack)
    }

    /// Updates each usable lead's QRS slope energy from its largest value near the beat's steepest point, and
    /// its weight, the QRS peak-to-mean energy ratio.
    private mutating func updateLeads(aroundSteepest steepest: Int) {
        guard let range = neighbourhood(of: steepest) else { return }
        let weight = configuration.peakLevelWeight
        for lead in 0..<leadCount where leads[lead].invalidHold == 0 {
            let peak = peakEnergy(of: lead, over: range)
            leads[lead].qrsEnergy += weight * (peak - leads[lead].qrsEnergy)
            // The sixth power nearly picks the cleanest lead while still letting a second lead help: on MIT-BIH
            // the fourth power let more noise in, the eighth lost more beats. The cap keeps it finite.
            let ratio = min(leads[lead].qrsEnergy / max(leads[lead].meanEnergy, minQRSSlopeEnergy), 10_000)
            let squared = ratio * ratio
            leads[lead].weight = squared * squared * squared
        }
    }
}
