import Model
import Stream

extension PipelineConfiguration {
    /// The stream pipeline a model needs: its rate, window, leads and preprocessing as its metadata says, with
    /// windows every `hopSeconds`.
    ///
    /// - Parameters:
    ///   - model: The model's configuration (`ecg.*` metadata).
    ///   - path: The model file, for messages.
    ///   - hopSeconds: Step between window starts; a whole number of samples at the model's rate.
    ///   - quality: Thresholds of the per-window technical checks.
    /// - Throws: ``DaemonError/unusableModel(path:reason:)`` naming the missing or unfitting value: a model
    ///   without metadata, a rate that is not a whole number of hertz, units other than millivolts, a hop that
    ///   is not a whole number of samples, or leads and steps the pipeline refuses.
    package init(
        model: ModelConfig,
        path: String,
        hopSeconds: Double,
        quality: SignalQualityThresholds
    ) throws(DaemonError) {
        guard model.hasMetadata, let rate = model.sampleRateHz, let windowSamples = model.windowSamples else {
            throw .unusableModel(
                path: path,
                reason: "it has no ecg.sample_rate_hz and ecg.window_samples metadata (docs/model-format.md)"
            )
        }
        guard rate == rate.rounded(), PipelineConfiguration.sampleRateRangeHz.contains(Int(rate)) else {
            throw .unusableModel(path: path, reason: "ecg.sample_rate_hz \(rate) is not a whole number in 50...1000")
        }
        if let units = model.units, units.lowercased() != "mv" {
            throw .unusableModel(path: path, reason: "ecg.units is \(units); streams are read in mV")
        }
        let hop = hopSeconds * rate
        guard hopSeconds.isFinite, hop >= 1, abs(hop - hop.rounded()) < 1e-6 else {
            throw .unusableModel(
                path: path,
                reason: "a hop of \(hopSeconds) s is not a whole number of samples at \(Int(rate)) Hz"
            )
        }
        do {
            var steps: [PreprocessingStep] = []
            if let metadata = model.preprocessingMetadata {
                steps = try PreprocessingStep.steps(metadataJSON: metadata, leadCount: model.leads.count)
            }
            try self.init(
                sampleRateHz: Int(rate),
                windowSamples: windowSamples,
                hopSamples: Int(hop.rounded()),
                leadNames: model.leads,
                preprocessing: steps,
                quality: quality
            )
        } catch {
            throw .unusableModel(path: path, reason: error.description)
        }
    }
}
