/// What every stream is turned into: the model's rate, lead order, preprocessing and window shape.
///
/// Built from plain values so that the daemon maps its model's metadata into it; Stream does not know the
/// model.
public struct PipelineConfiguration: Sendable {
    /// Model rates accepted, Hz.
    public static let sampleRateRangeHz = 50...1000

    /// The model's rate, Hz.
    public let sampleRateHz: Int
    /// Samples per lead in a window, at the model's rate.
    public let windowSamples: Int
    /// Samples between the starts of consecutive windows, at the model's rate.
    public let hopSamples: Int
    /// The model's leads, in input-channel order.
    public let leads: [StandardLead]
    /// The model's preprocessing, applied in order after resampling.
    public let preprocessing: [PreprocessingStep]
    /// Thresholds of the per-window technical checks.
    public let quality: SignalQualityThresholds
    /// Longest run of lost frames that is filled in (holding the last value, flagged) rather than refused,
    /// seconds. Default 1.
    public let maxGapSeconds: Double
    /// Stop band attenuation of the resampler, dB. Default 65.
    public let resamplerAttenuationDecibels: Double

    /// Creates and checks a configuration.
    ///
    /// - Parameters:
    ///   - sampleRateHz: the model's rate, 50…1000 Hz.
    ///   - windowSamples: window length at that rate, 1…60 s worth.
    ///   - hopSamples: hop at that rate, at least 1.
    ///   - leadNames: the model's lead names in order (standard names, any case, no duplicates).
    ///   - preprocessing: steps as the model's metadata lists them.
    ///   - quality: technical-check thresholds.
    ///   - maxGapSeconds: 0…10.
    ///   - resamplerAttenuationDecibels: 40…120.
    /// - Throws: ``StreamError/badConfiguration(reason:)`` naming the bad value.
    public init(
        sampleRateHz: Int,
        windowSamples: Int,
        hopSamples: Int,
        leadNames: [String],
        preprocessing: [PreprocessingStep] = [],
        quality: SignalQualityThresholds = .standard,
        maxGapSeconds: Double = 1,
        resamplerAttenuationDecibels: Double = 65
    ) throws(StreamError) {
        guard Self.sampleRateRangeHz.contains(sampleRateHz) else {
            throw .badConfiguration(reason: "model rate \(sampleRateHz) Hz is outside 50...1000")
        }
        guard windowSamples >= 1, windowSamples <= 60 * sampleRateHz else {
            throw .badConfiguration(reason: "window of \(windowSamples) samples is outside 1 sample...60 s")
        }
        guard hopSamples >= 1 else {
            throw .badConfiguration(reason: "hop of \(hopSamples) samples must be at least 1")
        }
        var leads: [StandardLead] = []
        for name in leadNames {
            guard let lead = StandardLead(name: name) else {
                throw .badConfiguration(reason: "model lead '\(name.escapedForLog)' is not a standard lead")
            }
            guard !leads.contains(lead) else { throw .badConfiguration(reason: "model lead '\(name)' is listed twice") }
            leads.append(lead)
        }
        guard !leads.isEmpty else { throw .badConfiguration(reason: "the model has no leads") }
        for step in preprocessing {
            try step.validate(leadCount: leads.count)
        }
        guard quality.flatLinePeakToPeakMillivolts.isFinite, quality.flatLinePeakToPeakMillivolts >= 0 else {
            throw .badConfiguration(reason: "flat-line threshold must be a finite number >= 0 mV")
        }
        guard quality.saturationMillivolts.isFinite, quality.saturationMillivolts > 0 else {
            throw .badConfiguration(reason: "saturation threshold must be a finite number > 0 mV")
        }
        guard quality.noiseRatio.isFinite, quality.noiseRatio > 0 else {
            throw .badConfiguration(reason: "noise ratio threshold must be a finite number > 0")
        }
        guard quality.baselineWanderMillivolts.isFinite, quality.baselineWanderMillivolts > 0 else {
            throw .badConfiguration(reason: "baseline wander threshold must be a finite number > 0 mV")
        }
        guard quality.powerlineMillivolts.isFinite, quality.powerlineMillivolts > 0 else {
            throw .badConfiguration(reason: "powerline threshold must be a finite number > 0 mV")
        }
        guard quality.maxMaskedLeads >= 0, quality.maxNoisyLeads >= 0 else {
            throw .badConfiguration(reason: "the most masked and noisy leads of a window must be >= 0")
        }
        guard quality.maxBeatNoiseRatio.isFinite, quality.maxBeatNoiseRatio > 0 else {
            throw .badConfiguration(reason: "the beat detector's noise limit must be a finite number > 0")
        }
        guard (0...10).contains(maxGapSeconds) else {
            throw .badConfiguration(reason: "maximum gap \(maxGapSeconds) s is outside 0...10")
        }
        guard (40...120).contains(resamplerAttenuationDecibels) else {
            throw .badConfiguration(
                reason: "resampler attenuation \(resamplerAttenuationDecibels) dB is outside 40...120"
            )
        }
        self.sampleRateHz = sampleRateHz
        self.windowSamples = windowSamples
        self.hopSamples = hopSamples
        self.leads = leads
        self.preprocessing = preprocessing
        self.quality = quality
        self.maxGapSeconds = maxGapSeconds
        self.resamplerAttenuationDecibels = resamplerAttenuationDecibels
    }

    /// Samples per window of every lead: `leads.count · windowSamples`, the size of one model input.
    public var windowValueCount: Int { leads.count * windowSamples }
}
