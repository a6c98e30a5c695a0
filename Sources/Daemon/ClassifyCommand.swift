import ArgumentParser
import Foundation
import Model

/// `ecg-monitor classify`: runs the model on a file and prints per-window and aggregated probabilities as JSON.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify an ECG file with the model and print JSON.",
        discussion: """
            INPUT is a .npy float32 array [12, T] or [B, 12, T], run as is (no preprocessing); the B windows of a \
            batch are reported as consecutive, window b starting at sample b·T. A WFDB record (.hea) goes through \
            the daemon's stream pipeline: its standard leads are resampled to the model's rate and preprocessed as \
            the model's metadata says, then classified in windows every --hop-seconds (start_sample counts samples \
            at the model's rate); the aggregate is the maximum over windows, as the model was evaluated.
            """
    )

    @Option(name: .long, help: "The ONNX model file.")
    var model: String

    @Argument(help: "A .npy float32 array [12, T] or [B, 12, T], or a WFDB record header (.hea).")
    var input: String

    @Flag(name: .long, help: "Also print each window's logits.")
    var logits = false

    @Option(name: .long, help: "WFDB records: seconds between window starts (the benchmark evaluation's 1.25).")
    var hopSeconds = 1.25

    /// The JSON printed: classes, every window, and the max over windows.
    struct Report: Encodable, Equatable {
        struct Window: Encodable, Equatable {
            var startSample: Int
            var logits: [Float]?
            var probabilities: [Float]

            enum CodingKeys: String, CodingKey {
                case startSample = "start_sample"
                case logits
                case probabilities
            }
        }

        struct Aggregate: Encodable, Equatable {
            var method = "max"
            var probabilities: [Float]
        }

        var classes: [String]
        var windows: [Window]
        var aggregate: Aggregate
    }

    /// The largest batch run through the engine at once; longer inputs go through in several calls.
    static let maxBatch = 64
    /// The longest window accepted (1000 s at 100 Hz); the workspace grows with it (about 50 MB per buffer here).
    static let maxTime = 100_000

    func validate() throws {
        guard hopSeconds.isFinite, hopSeconds > 0 else { throw ValidationError("--hop-seconds must be positive") }
    }

    func run() throws {
        let loaded = try Model(contentsOf: model)
        for warning in loaded.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let report: Report
        if input.lowercased().hasSuffix(".hea") {
            report = try classifyRecord(header: input, model: loaded)
        } else {
            report = try classifyArray(try NpyArray(contentsOf: input), model: loaded)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    /// Runs every window of an `.npy` array as is.
    ///
    /// - Throws: ``InputError/badShape(path:shape:reason:)`` if the array is not `[leads, T]` or `[B, leads, T]`.
    func classifyArray(_ array: NpyArray, model: Model) throws -> Report {
        let leads = model.plan.inputChannels
        let (batch, time): (Int, Int)
        switch array.shape.count {
        case 2 where array.shape[0] == leads: (batch, time) = (1, array.shape[1])
        case 3 where array.shape[1] == leads: (batch, time) = (array.shape[0], array.shape[2])
        default:
            throw InputError.badShape(
                path: input, shape: array.shape, reason: "expected [\(leads), T] or [B, \(leads), T]")
        }
        guard batch >= 1, time >= 1 else {
            throw InputError.badShape(path: input, shape: array.shape, reason: "no samples")
        }
        guard time <= Self.maxTime else {
            throw InputError.badShape(
                path: input, shape: array.shape, reason: "windows longer than \(Self.maxTime) samples are not run")
        }
        let windowLogits = try Self.logits(model: model, windows: array.values, batch: batch, time: time)
        let starts = (0..<batch).map { $0 * time }
        return Self.report(model: model, starts: starts, logits: windowLogits, includeLogits: logits)
    }

    /// Runs `batch` windows of `time` samples, at most ``maxBatch`` per engine call; logits per window.
    static func logits(model: Model, windows: [Float], batch: Int, time: Int) throws -> [[Float]] {
        let engine = IncepSE(model: model, maxBatch: min(batch, maxBatch), maxTimeSamples: time)
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

    /// The report for windows starting at `starts` with the given logits; probabilities are `sigmoid(logits)`.
    static func report(model: Model, starts: [Int], logits: [[Float]], includeLogits: Bool) -> Report {
        let windows = zip(starts, logits).map { start, values in
            Report.Window(
                startSample: start, logits: includeLogits ? values : nil, probabilities: values.map(sigmoid))
        }
        var maximum = [Float](repeating: 0, count: model.plan.outputCount)
        for window in windows {
            for (i, p) in window.probabilities.enumerated() { maximum[i] = max(maximum[i], p) }
        }
        return Report(
            classes: model.config.classes.map(\.code), windows: windows,
            aggregate: Report.Aggregate(probabilities: maximum))
    }

    private static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
}
