import Alarms
import Beats
import Model
import Stream

/// Streams recordings through the daemon's path offline — protocol bytes, decoder, stream pipeline with its
/// signal-quality checks, the inference engine, the alarm engine — and returns what each one raised: the
/// measurement behind `ecg-monitor evaluate` and the alarm report of a model.
///
/// Not thread-safe: one evaluator per thread (each owns an engine and its workspace).
package final class AlarmEvaluator {
    /// What one recording did.
    package struct Outcome: Sendable {
        /// Windows the pipeline formed.
        package var windows = 0
        /// Windows classified (the rest were unclassifiable: noisy, too many leads off, frames missing).
        package var classified = 0
        /// Every alarm transition, in order, ending with those of the stream's end.
        package var events: [AlertEvent] = []
        /// Each window's end (stream seconds), the heart rate it carried and the beat detector's noise estimate,
        /// in order.
        package var heartRates: [(endSeconds: Double, reading: HeartRateReading?, beatNoiseRatio: Double?)] = []
    }

    /// The model, its pipeline and the alarm rules, loaded once and shared by the evaluators of every thread.
    package struct Setup: Sendable {
        let binding: ModelBinding
        let rules: AlarmRules

        /// Loads the model of `config` and resolves its alarm rules, as the daemon does at start-up.
        ///
        /// - Throws: What ``DaemonRuntime`` start-up would throw for the model and the alarm rules.
        package init(config: Config) throws {
            binding = try ModelBinding(config: config)
            rules = try binding.rules(config)
        }
    }

    private let engine: WindowEngine
    /// `[FileClassifier.maxBatch][classes]`.
    private var logits: [Float]
    private let configuration: PipelineConfiguration
    private let rules: AlarmRules
    private let classCount: Int

    /// An evaluator with its own engine.
    ///
    /// - Throws: ``ModelError`` when the model cannot run windows of the configured length.
    package convenience init(_ setup: Setup) throws(ModelError) {
        try self.init(model: setup.binding.model, configuration: setup.binding.pipeline, rules: setup.rules)
    }

    /// An evaluator running `model` on windows cut as `configuration` says, under `rules`.
    ///
    /// - Throws: ``ModelError`` when the model cannot run windows of the configured length.
    init(model: LoadedModel, configuration: PipelineConfiguration, rules: AlarmRules) throws(ModelError) {
        engine = try WindowEngine(
            model: model,
            maxBatch: FileClassifier.maxBatch,
            windowSamples: configuration.windowSamples
        )
        logits = [Float](repeating: 0, count: FileClassifier.maxBatch * model.classCount)
        self.configuration = configuration
        self.rules = rules
        classCount = model.classCount
    }

    /// Streams `record` as stream `streamID` from its first sample to its end (announced, so no "ended
    /// unexpectedly" alarm), and returns the windows and alarm transitions.
    ///
    /// - Throws: ``StreamError`` when the record cannot be streamed, ``AlarmsError`` if the engine refuses a
    ///   window (a bug: the pipeline's windows are in order).
    package func evaluate(_ record: WFDBRecord, streamID: String) throws -> Outcome {
        var outcome = Outcome()
        var alarms = AlarmEngine(rules: rules)
        var pending: [(info: WindowInfo, batchIndex: Int?)] = []
        var batch: [Float] = []
        var windows: [WindowEngine.Window] = []
        // the record is one stream: a streaming model carries its state from window to window, and forgets it after
        let stream = WindowQueue.Ticket(slot: 0, generation: 0)
        defer { engine.end(stream) }
        func flush() throws {
            if !windows.isEmpty {
                batch.withUnsafeBufferPointer { samples in
                    logits.withUnsafeMutableBufferPointer { output in
                        engine.run(samples.baseAddress!, windows: windows[...], into: output.baseAddress!)
                    }
                }
            }
            for (info, batchIndex) in pending {
                if let batchIndex {
                    let row = batchIndex * classCount
                    let probabilities = (0..<classCount).map { CompiledModel.probability(logit: logits[row + $0]) }
                    outcome.events += try alarms.classify(
                        stream: streamID,
                        startSeconds: info.startSeconds,
                        endSeconds: info.endSeconds,
                        probabilities: probabilities,
                        flags: TechnicalFlags(quality: info.quality),
                        heartRate: info.heartRate
                    )
                } else {
                    outcome.events += try alarms.skip(
                        stream: streamID,
                        startSeconds: info.startSeconds,
                        endSeconds: info.endSeconds,
                        flags: TechnicalFlags(quality: info.quality),
                        heartRate: info.heartRate
                    )
                }
            }
            pending.removeAll(keepingCapacity: true)
            batch.removeAll(keepingCapacity: true)
            windows.removeAll(keepingCapacity: true)
        }
        try FileClassifier.streamWindows(of: record, configuration: configuration) { window in
            outcome.windows += 1
            outcome.heartRates.append(
                (window.info.endSeconds, window.info.heartRate, window.info.quality.beatNoiseRatio)
            )
            guard window.info.quality.isClassifiable else {
                pending.append((window.info, nil))
                return
            }
            let offset = batch.count
            pending.append((window.info, offset / configuration.windowValueCount))
            windows.append(WindowEngine.Window(stream: stream, endSample: Int(window.info.endSample)))
            batch.append(contentsOf: repeatElement(0, count: configuration.windowValueCount))
            batch.withUnsafeMutableBufferPointer { buffer in
                if let base = buffer.baseAddress { window.copySamples(into: base + offset) }
            }
            outcome.classified += 1
            if batch.count == FileClassifier.maxBatch * configuration.windowValueCount { try flush() }
        }
        try flush()
        outcome.events += alarms.ended(stream: streamID, expected: true)
        return outcome
    }
}
