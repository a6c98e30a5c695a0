import Foundation
import TestSupport
import Testing

/// `ecg-monitor evaluate` as a process: a record streamed through the pipeline and alarm rules, its events, its
/// per-window heart rates and its summary as JSON lines.
@Suite(.timeLimit(.minutes(2))) struct EvaluateCommandTests {
    static func evaluate(_ arguments: [String]) async throws -> [[String: Any]] {
        let process = try DaemonProcess(["evaluate", "--model", DaemonTestSupport.defaultModelPath] + arguments)
        #expect(try await process.waitForExit(timeout: .seconds(90)) == 0)
        return process.output.lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.text.utf8))) as? [String: Any]
        }
    }

    /// The CPSC atrial-fibrillation record (500 Hz, 15 s): AFIB raised and, at the announced end, cleared; one
    /// heart-rate line per window, the rate of a fast irregular rhythm with a high RR irregularity; every window
    /// classified.
    @Test func streamsARecordThroughThePipelineAndTheAlarmRules() async throws {
        let record = try DaemonTestSupport.samplePath("12-lead-ecg-classifier/A0003")
        let lines = try await Self.evaluate([record, "--heart-rates"])
        let summary = try #require(lines.last)
        #expect(summary["stream"] as? String == "A0003")
        let windows = try #require(summary["windows"] as? Int)
        #expect(windows > 0 && summary["classified"] as? Int == windows)
        let rates = lines.filter { $0["window_end"] != nil && $0["event"] == nil }
        #expect(rates.count == windows)
        let last = try #require(rates.last)
        #expect((70...160).contains(try #require(last["heart_rate"] as? Double)), "\(last)")
        #expect(try #require(last["rr_irregularity"] as? Double) > 0.1, "\(last)")
        let afib = lines.filter { $0["class"] as? String == "AFIB" }.map { $0["event"] as? String }
        #expect(afib == ["raised", "cleared"])
    }

    /// At 0 dB of muscle noise on a 100 Hz record nothing is classified and the noisy-signal technical alarm is
    /// raised instead. (At 500 Hz most of the simulated EMG lies above the model's 50 Hz band: the resampler
    /// removes it and the windows are rightly classified.)
    @Test func aNoiseStressedRecordRaisesNoisySignalInsteadOfFindings() async throws {
        let record = try DaemonTestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00172_lr")
        let lines = try await Self.evaluate([record, "--stress", "muscle:0"])
        #expect(
            lines.contains {
                $0["event"] as? String == "technical-raised" && $0["condition"] as? String == "noisy-signal"
            }
        )
        #expect(!lines.contains { $0["class"] != nil })
        #expect(try #require(lines.last)["classified"] as? Int == 0)
    }
}
