import Foundation
import Stream
import Testing

@testable import Beats

/// The real recordings beside the repository (`../shared/ecg-samples`).
private enum SampleRecordings {
    static let directory: String = {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/ecg-samples").path
    }()

    static var arePresent: Bool { FileManager.default.fileExists(atPath: directory) }
}

/// Each recording's rate as 60 / median RR, from wfdb-python's `xqrs_detect` on leads II, V5 and V2 (the
/// median over the leads; 100 Hz records resampled to 360 Hz first), computed once and recorded here.
private let referenceRatesBPM: [(record: String, bpm: Double)] = [
    ("12-lead-ecg-classifier/A0003", 153.8),
    ("12-lead-ecg-classifier/A0005", 119.5),
    ("12-lead-ecg-classifier/E00005", 81.7),
    ("12-lead-ecg-classifier/HR00008", 73.7),
    ("12-lead-ecg-classifier/JS00001", 113.2),
    ("12-lead-ecg-classifier/JS00005", 163.0),
    ("ECG-classification---CNN1D-on-PTB-XL/00008_lr", 73.7),
    ("ECG-classification---CNN1D-on-PTB-XL/00057_lr", 65.1),
    ("ECG-classification---CNN1D-on-PTB-XL/00172_lr", 80.4),
    ("ECG-classification---CNN1D-on-PTB-XL/00400_lr", 70.1),
    ("ECG-classification---CNN1D-on-PTB-XL/00618_lr", 69.3),
    ("ECG-classification---CNN1D-on-PTB-XL/01737_lr", 66.3),
    ("ECG-classification---CNN1D-on-PTB-XL/02776_lr", 78.1),
    ("ECG-classification---CNN1D-on-PTB-XL/03785_lr", 65.3),
    ("ECG-classification---CNN1D-on-PTB-XL/03948_lr", 68.2),
    ("ECG-classification---CNN1D-on-PTB-XL/08215_lr", 80.3),
    ("ECG-classification---CNN1D-on-PTB-XL/15897_lr", 63.6),
    ("ECGClassification_PTBXL/00008_hr", 73.7),
    ("torch_ecg/E07505", 92.0),
    ("torch_ecg/E07506", 67.4),
    ("torch_ecg/E07509", 48.3),
    ("torch_ecg/E07514", 114.9),
    ("torch_ecg/HR06000", 69.0),
    ("torch_ecg/HR06002", 41.1),
    ("torch_ecg/JS20003", 115.8),
    ("torch_ecg/JS20012", 129.3),
    ("wfdb-python/s0010_re", 81.9),
]

@Suite(.enabled(if: SampleRecordings.arePresent, "../shared/ecg-samples is absent: real-recording tests skipped"))
struct SampleRecordingRateTests {
    /// Atrial fibrillation (A0003, JS20012) makes the median RR itself uncertain by a few beats per minute:
    /// wfdb's three leads disagree by up to 5 bpm on JS20012.
    static let toleranceBPM = 4.0

    @Test(arguments: referenceRatesBPM.map(\.record))
    func measuresTheRateOfARealRecording(record: String) throws {
        let reference = try #require(referenceRatesBPM.first { $0.record == record }).bpm
        let recording = try WFDBRecord.read(path: SampleRecordings.directory + "/" + record)
        let signals = recording.header.signals.indices.map { recording.millivolts(signal: $0) }
        let rate = recording.header.sampleRateHz
        var detector = QRSDetector(sampleRateHz: rate, leadCount: signals.count)
        var beats: [Int] = []
        var frame = [Float](repeating: 0, count: signals.count)
        for sample in 0..<recording.sampleCount {
            for lead in signals.indices { frame[lead] = signals[lead][sample] }
            if let beat = detector.process(frame) {
                beats.append(beat.sampleIndex)
            }
        }
        #expect(beats.count >= 4)
        let intervals = zip(beats.dropFirst(), beats).map { Double($0 - $1) }.sorted()
        let median =
            intervals.count % 2 == 1
            ? intervals[intervals.count / 2] : (intervals[intervals.count / 2 - 1] + intervals[intervals.count / 2]) / 2
        let measured = 60 * rate / median
        #expect(abs(measured - reference) <= Self.toleranceBPM, "\(record): \(measured) bpm, reference \(reference)")
    }
}
