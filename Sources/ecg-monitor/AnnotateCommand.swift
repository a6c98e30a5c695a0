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
    }

    func run() throws {
        for path in records {
            let record = try WFDBRecord.read(path: path)
            let frames = Self.interleavedMillivolts(record)
            let leadCount = record.header.signals.count
            var writer = WFDBAnnotationWriter()
            var detector = QRSDetector(sampleRateHz: record.header.sampleRateHz, leadCount: leadCount)
            var beats: [DetectedBeat] = []
            frames.withUnsafeBufferPointer { all in
                for start in stride(from: 0, to: all.count, by: leadCount) {
                    if let beat = detector.process(UnsafeBufferPointer(rebasing: all[start..<start + leadCount])) {
                        beats.append(beat)
                    }
                }
            }
            for beat in beats { try writer.appendBeat(atSampleIndex: beat.sampleIndex) }
            let base = path.hasSuffix(".hea") ? String(path.dropLast(4)) : path
            let name = base.split(separator: "/").last.map(String.init) ?? base
            let directory = out ?? base.lastIndex(of: "/").map { String(base[..<$0]) } ?? "."
            let outPath = directory + "/" + name + ".qrs"
            do {
                try Data(writer.bytes).write(to: URL(fileURLWithPath: outPath))
            } catch {
                throw InputError.unreadable(path: outPath, reason: "cannot write the annotations: \(error)")
            }
            print(summary(name: name, beats: beats, detector: detector, record: record))
            if let bench {
                print(benchmark(name: name, frames: frames, record: record, cpuSeconds: bench))
            }
        }
    }

    /// Every signal in millivolts, interleaved `[sample][signal]`; invalid samples are NaN.
    static func interleavedMillivolts(_ record: WFDBRecord) -> [Float] {
        let signals = record.header.signals.indices.map { record.millivolts(signal: $0) }
        var frames = [Float](repeating: 0, count: record.sampleCount * signals.count)
        for (lead, values) in signals.enumerated() {
            for (sample, value) in values.enumerated() { frames[sample * signals.count + lead] = value }
        }
        return frames
    }

    private func summary(name: String, beats: [DetectedBeat], detector: QRSDetector, record: WFDBRecord) -> String {
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

    /// Times whole passes of the detector over the record until `cpuSeconds` of thread CPU time are spent.
    private func benchmark(name: String, frames: [Float], record: WFDBRecord, cpuSeconds: Double) -> String {
        let leadCount = record.header.signals.count
        var passes = 0
        var beatCount = 0
        let began = EngineBenchmark.threadCPUSeconds()
        var spent = 0.0
        frames.withUnsafeBufferPointer { all in
            repeat {
                var detector = QRSDetector(sampleRateHz: record.header.sampleRateHz, leadCount: leadCount)
                for start in stride(from: 0, to: all.count, by: leadCount) {
                    if detector.process(UnsafeBufferPointer(rebasing: all[start..<start + leadCount])) != nil {
                        beatCount += 1
                    }
                }
                passes += 1
                spent = EngineBenchmark.threadCPUSeconds() - began
            } while spent < cpuSeconds
        }
        let signalSeconds = Double(passes * record.sampleCount) / record.header.sampleRateHz
        let nanosecondsPerSample = spent * 1e9 / Double(passes * record.sampleCount)
        let rate = record.header.sampleRateHz
        return "\(name) bench: \(passes) passes, \(beatCount) beats, "
            + String(format: "%.1f ns per sample of %d leads at %.0f Hz, ", nanosecondsPerSample, leadCount, rate)
            + String(format: "%.2f%% of one core per 100 streams", 100 * 100 * spent / signalSeconds)
    }
}
