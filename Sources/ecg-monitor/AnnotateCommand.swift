import ArgumentParser
import Beats
import Benchmarks
import Foundation
import Monitor
import Stream

/// `ecg-monitor annotate`: runs the QRS detector over WFDB records and writes their beats as `RECORD.qrs`.
struct AnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Detect the QRS complexes of WFDB records and write them as WFDB annotation files (RECORD.qrs).",
        discussion: """
            Every signal of the record goes to the detector, sample by sample, as it would arrive from a stream \
            (invalid samples as lead off). Each beat is written as a normal beat (N) at its fiducial point, in \
            WFDB's MIT format, readable by rdann and wfdb.rdann. One line per record is printed: beats, beats \
            found by search-back, the largest detection delay, and the mean rate. With --bench the detector is \
            also timed on each record (thread CPU time over repeated passes) and its cost printed as the share \
            of one core that 100 such streams would take.
            """
    )

    @Argument(help: "Records, as .hea paths or paths without extension.")
    var records: [String]

    @Option(help: "Directory for the .qrs files; default: each record's own directory.")
    var out: String?

    @Option(help: "Also time the detector: CPU seconds to spend on each record.")
    var bench: Double?

    func validate() throws {
        guard !records.isEmpty else { throw ValidationError("name at least one record") }
        if let bench, !(bench > 0 && bench.isFinite) { throw ValidationError("--bench must be positive") }
        var isDirectory: ObjCBool = false
        if let out, !(FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw ValidationError("--out \(out) is not a directory")
        }
    }

    func run() throws {
        for path in records {
            let record = try WFDBRecord.read(path: path)
            let frames = record.interleavedMillivolts()
            let leadCount = record.header.signals.count
            var detector = QRSDetector(sampleRateHz: record.header.sampleRateHz, leadCount: leadCount)
            let beats = frames.withUnsafeBufferPointer { detector.process(interleaved: $0) }
            var writer = WFDBAnnotationWriter()
            for beat in beats { try writer.appendBeat(atSampleIndex: beat.sampleIndex) }
            let base = path.hasSuffix(".hea") ? String(path.dropLast(4)) : path
            let name = base.split(separator: "/").last.map(String.init) ?? base
            let directory = out ?? base.lastIndex(of: "/").map { String(base[..<$0]) } ?? "."
            let outPath = directory + "/" + name + ".qrs"
            do {
                try Data(writer.bytes).write(to: URL(fileURLWithPath: outPath))
            } catch {
                throw AnnotationFileError(path: outPath, reason: error.localizedDescription)
            }
            print(summary(name: name, beats: beats, record: record))
            if let bench {
                let rate = record.header.sampleRateHz
                let result = DetectorBenchmark.measure(
                    frames: frames,
                    leadCount: leadCount,
                    sampleRateHz: rate,
                    cpuSeconds: bench
                )
                print(
                    "\(name) bench: \(result.passes) passes, \(result.beats) beats, "
                        + String(
                            format: "%.1f ns per sample of %d leads at %.0f Hz, ",
                            result.nanosecondsPerSample,
                            leadCount,
                            rate
                        )
                        + String(
                            format: "%.2f%% of one core per 100 streams",
                            result.percentOfOneCorePerHundredStreams(sampleRateHz: rate)
                        )
                )
            }
        }
    }

    private func summary(name: String, beats: [DetectedBeat], record: WFDBRecord) -> String {
        let rate = record.header.sampleRateHz
        let direct = beats.filter { !$0.foundBySearchBack }
        let maxDelay = direct.map { $0.emittedAtSampleIndex - $0.sampleIndex }.max() ?? 0
        var meanRate = "-"
        if let first = beats.first, let last = beats.last, beats.count > 1 {
            let bpm = 60 * Double(beats.count - 1) * rate / Double(last.sampleIndex - first.sampleIndex)
            meanRate = String(format: "%.1f bpm", bpm)
        }
        return "\(name): \(beats.count) beats, \(beats.count - direct.count) by search-back, "
            + String(format: "max delay %.3f s, ", Double(maxDelay) / rate) + "mean rate \(meanRate)"
    }
}

/// An annotation file that could not be written.
struct AnnotationFileError: Error, CustomStringConvertible {
    let path: String
    let reason: String

    var description: String { "cannot write \(path): \(reason)" }
}
