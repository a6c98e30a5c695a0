import ArgumentParser
import Foundation
import Monitor
import Producers
import Stream

/// `ecg-monitor evaluate`: streams recordings through the daemon's pipeline and alarm rules, offline, and prints
/// what each raised.
struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Stream WFDB records through the pipeline and alarm rules; print their alarm events as JSON lines.",
        discussion: """
            Each record is sent from its first sample as the daemon would receive it (decoder, resampling, \
            preprocessing, signal-quality checks, windows every windows.hop_seconds), classified, and run \
            through the alarm engine with the rules of --config (default: the shipped configuration); its end is \
            announced. Output, per record in the order given: its alarm events as `--alerts json` writes them \
            (time 0, stream = the record's name), then one summary line {"record", "stream", "windows", \
            "classified"}; with --heart-rates, before it, one line per window {"stream", "window_end", \
            "heart_rate", "rr_irregularity", "qrs_noise_ratio"} (absent values: unknown). --stress adds a disturbance to every record first: wander:MV:HZ (baseline \
            wander), muscle:SNR_DB (EMG-like noise), powerline:MV:HZ, lead-off:LEAD (a flat lead). \
            tools/alarm_eval.py turns a PTB-XL fold into a report.
            """
    )

    @Option(help: "Configuration file (YAML); default: the built-in values, which equal config/ecg-monitor.yaml.")
    var config: String?

    @Option(help: "ONNX model file, instead of model.path.")
    var model: String?

    @Option(help: "Disturbance added to every record: wander:MV:HZ, muscle:SNR_DB, powerline:MV:HZ or lead-off:LEAD.")
    var stress: String?

    @Flag(help: "Also print each window's heart rate and RR irregularity, one JSON line per window.")
    var heartRates = false

    @Option(help: "Seed of the disturbances (each record draws from this seed and its name).")
    var seed: UInt64 = 1

    @Option(help: "Records evaluated at once, each on a thread of its own.")
    var threads = 1

    @Option(help: "Read the records' paths, one per line, from this file ('-' for standard input).")
    var recordsFrom: String?

    @Argument(help: "WFDB records (.hea, or the path without the extension).")
    var records: [String] = []

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard !records.isEmpty || recordsFrom != nil else { throw ValidationError("give records or --records-from") }
        if let stress { _ = try SignalStress(parsing: stress) }
    }

    func run() async throws {
        var config = try await Config.load(filePath: self.config, environment: ProcessInfo.processInfo.environment)
        if let model { config.model.path = model }
        let stress = try stress.map { try SignalStress(parsing: $0) }
        let seed = self.seed
        let evaluation = RecordEvaluation(setup: try AlarmEvaluator.Setup(config: config), heartRates: heartRates) {
            record in
            guard let stress else { return record }
            return stress.applied(
                to: record, seed: seed ^ UInt64(truncatingIfNeeded: Self.stableHash(record.header.recordName)))
        }
        for lines in try await evaluation.run(paths: try records + readPaths(), threads: threads) {
            FileHandle.standardOutput.write(Data(lines.utf8))
        }
    }

    /// FNV-1a of the name: the same disturbance for the same record on every run and machine.
    private static func stableHash(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    private func readPaths() throws -> [String] {
        guard let recordsFrom else { return [] }
        let data: Data
        if recordsFrom == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = try Data(contentsOf: URL(fileURLWithPath: recordsFrom))
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.isEmpty }
    }
}
