import Alarms
import Foundation
import Model
import Stream

/// The model the daemon runs and what follows from it: the stream pipeline its metadata asks for, and the
/// classes the alarm rules are resolved against.
struct ModelBinding: Sendable {
    /// The loaded model, windowed or streaming.
    let model: LoadedModel
    /// The model's name, stamped on alert events: the file name without `.onnx`.
    let name: String
    /// How streams are turned into the model's windows.
    let pipeline: PipelineConfiguration

    /// Loads `config.model.path` and maps its metadata onto the stream pipeline.
    ///
    /// - Throws: ``ModelError`` for a file the engine cannot run; ``DaemonError/unusableModel(path:reason:)`` for
    ///   a model without stream metadata; ``DaemonError/badConfigValue(key:value:expected:)`` when
    ///   `windows.seconds` is not the model's window (the model's thresholds hold for that length only).
    init(config: Config) throws {
        let path = config.model.path
        model = try LoadedModel(contentsOf: path)
        name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        pipeline = try PipelineConfiguration(
            model: model.config,
            path: path,
            hopSeconds: config.windows.hopSeconds,
            quality: SignalQualityThresholds(
                flatLinePeakToPeakMillivolts: config.technical.flatLineMillivolts,
                saturationMillivolts: config.technical.saturationMillivolts
            )
        )
        let windowSeconds = Double(pipeline.windowSamples) / Double(pipeline.sampleRateHz)
        guard abs(config.windows.seconds - windowSeconds) < 1e-9 else {
            throw DaemonError.badConfigValue(
                key: "windows.seconds",
                value: "\(config.windows.seconds)",
                expected: "the model's window, \(windowSeconds) s (\(pipeline.windowSamples) samples)"
            )
        }
    }

    /// The alarm rules of `config` resolved against the model's classes and thresholds: each class's alarm
    /// operating point where the model has one (`ecg.alarm_thresholds`), else its record-level threshold.
    ///
    /// - Throws: ``AlarmsError/unknownAlarmClass(key:code:)`` when the configuration names a class the model
    ///   lacks.
    func rules(_ settings: Config) throws(AlarmsError) -> AlarmRules {
        let config = model.config
        let classes = config.classes.indices.map { index in
            (
                code: config.classes[index].code, description: config.classes[index].description,
                threshold: Float(config.alarmThresholds[index] ?? config.thresholds[index])
            )
        }
        return try AlarmRules(
            alarms: settings.alarms,
            technical: settings.technical,
            heartRate: settings.heartRate,
            classes: classes,
            leadNames: config.leads,
            model: name
        )
    }
}
