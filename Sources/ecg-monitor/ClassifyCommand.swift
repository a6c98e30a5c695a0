import ArgumentParser
import Foundation
import Model
import Monitor

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

    @OptionGroup var model: ModelOptions

    @Argument(help: "A .npy float32 array [12, T] or [B, 12, T], or a WFDB record header (.hea).")
    var input: String

    @Flag(name: .long, help: "Also print each window's logits.")
    var logits = false

    @Option(name: .long, help: "WFDB records: seconds between window starts (the benchmark evaluation's 1.25).")
    var hopSeconds = 1.25

    func validate() throws {
        guard hopSeconds.isFinite, hopSeconds > 0 else { throw ValidationError("--hop-seconds must be positive") }
    }

    func run() throws {
        let loaded = try CompiledModel(contentsOf: model.model)
        for warning in loaded.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let classifier = FileClassifier(
            model: loaded, modelPath: model.model, includesLogits: logits, hopSeconds: hopSeconds)
        let report: FileClassifier.Report
        if input.lowercased().hasSuffix(".hea") {
            report = try classifier.classifyRecord(header: input)
        } else {
            report = try classifier.classifyArray(try NpyArray(contentsOf: input), path: input)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
