import Foundation
import Model

/// Classifies a file with the model, offline: what `ecg-monitor classify` prints.
///
/// An `.npy` array is run as is (no preprocessing); a WFDB record goes through the daemon's stream pipeline
/// (``classifyRecord(header:)``).
package struct FileClassifier {
    /// The JSON printed: classes, every window, and the max over windows.
    package struct Report: Encodable, Equatable {
        package struct Window: Encodable, Equatable {
            package var startSample: Int
            package var logits: [Float]?
            package var probabilities: [Float]

            enum CodingKeys: String, CodingKey {
                case startSample = "start_sample"
                case logits
                case probabilities
            }
        }

        package struct Aggregate: Encodable, Equatable {
            package var method = "max"
            package var probabilities: [Float]
        }

        package var classes: [String]
        package var windows: [Window]
        package var aggregate: Aggregate
    }

    /// The largest batch run through the engine at once; longer inputs go through in several calls.
    package static let maxBatch = 64
    /// The longest window accepted (1000 s at 100 Hz); the workspace grows with it (about 50 MB per buffer here).
    package static let maxTime = 100_000

    /// The loaded model.
    package let model: CompiledModel
    /// The model file, for messages.
    package let modelPath: String
    /// Whether each window's logits are reported too.
    package var includesLogits: Bool
    /// WFDB records: seconds between window starts.
    package var hopSeconds: Double

    /// A classifier running `model`, loaded from `modelPath`.
    package init(model: CompiledModel, modelPath: String, includesLogits: Bool = false, hopSeconds: Double = 1.25) {
        self.model = model
        self.modelPath = modelPath
        self.includesLogits = includesLogits
        self.hopSeconds = hopSeconds
    }

    /// Runs every window of an `.npy` array as is.
    ///
    /// - Parameter path: The file the array was read from, for messages.
    /// - Throws: ``InputError/badShape(path:shape:reason:)`` if the array is not `[leads, T]` or `[B, leads, T]`.
    package func classifyArray(_ array: NpyArray, path: String) throws -> Report {
        let leads = model.plan.inputChannels
        let (batch, time): (Int, Int)
        switch array.shape.count {
        case 2 where array.shape[0] == leads: (batch, time) = (1, array.shape[1])
        case 3 where array.shape[1] == leads: (batch, time) = (array.shape[0], array.shape[2])
        default:
            throw InputError.badShape(
                path: path, shape: array.shape, reason: "expected [\(leads), T] or [B, \(leads), T]")
        }
        guard batch >= 1, time >= 1 else {
            throw InputError.badShape(path: path, shape: array.shape, reason: "no samples")
        }
        guard time <= Self.maxTime else {
            throw InputError.badShape(
                path: path, shape: array.shape, reason: "windows longer than \(Self.maxTime) samples are not run")
        }
        let windowLogits = try Self.logits(model: model, windows: array.values, batch: batch, time: time)
        let starts = (0..<batch).map { $0 * time }
        return Self.report(model: model, starts: starts, logits: windowLogits, includeLogits: includesLogits)
    }

    /// Runs `batch` windows of `time` samples, at most ``maxBatch`` per engine call; logits per window.
    static func logits(model: CompiledModel, windows: [Float], batch: Int, time: Int) throws -> [[Float]] {
        let engine = PlanExecutor(model: model, maxBatch: min(batch, maxBatch), maxTimeSamples: time)
        let stride = model.plan.inputChannels * time
        var result: [[Float]] = []
        var start = 0
        while start < batch {
            let count = min(maxBatch, batch - start)
            let chunk = Array(windows[(start * stride)..<((start + count) * stride)])
            let flat = try engine.logits(for: chunk, batch: count, timeSamples: time)
            for w in 0..<count {
                result.append(Array(flat[(w * model.plan.outputCount)..<((w + 1) * model.plan.outputCount)]))
            }
            start += count
        }
        return result
    }

    /// The report for windows starting at `starts` with the given logits; probabilities are ``CompiledModel/probability(logit:)`` of them.
    static func report(model: CompiledModel, starts: [Int], logits: [[Float]], includeLogits: Bool) -> Report {
        let windows = zip(starts, logits).map { start, values in
            Report.Window(
                startSample: start, logits: includeLogits ? values : nil,
                probabilities: values.map(CompiledModel.probability(logit:)))
        }
        var maximum = [Float](repeating: 0, count: model.plan.outputCount)
        for window in windows {
            for (i, p) in window.probabilities.enumerated() { maximum[i] = max(maximum[i], p) }
        }
        return Report(
            classes: model.config.classes.map(\.code), windows: windows,
            aggregate: Report.Aggregate(probabilities: maximum))
    }
}
