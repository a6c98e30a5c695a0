import Alarms
import AlarmsTestSupport
import Foundation
import Stream
import TestSupport
import Testing

/// The PTB-XL 100 Hz records shipped beside the repository (`../shared/ecg-samples`), read just enough for
/// these tests: WFDB format 16, 12 leads, gain and baseline from the header.
enum SampleRecordings {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/ecg-samples/ECG-classification---CNN1D-on-PTB-XL")

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".hea") }.map { String($0.dropLast(4)) }.sorted()
    }

    static var arePresent: Bool { !names.isEmpty }

    /// Samples in millivolts, leads-major `[12][samples]`.
    static func read(_ name: String) throws -> (leads: [[Float]], rateHz: Int) {
        let header = try String(contentsOf: directory.appendingPathComponent(name + ".hea"), encoding: .utf8)
        let lines = header.split(separator: "\n").map { $0.split(separator: " ") }
        guard let record = lines.first, record.count >= 4, let count = Int(record[1]), let rate = Int(record[2]),
            lines.count > count
        else {
            throw HarnessError(description: "\(name).hea: unreadable record line")
        }
        let calibrations: [(gain: Float, baseline: Float)] = try lines[1...count].map { signal in
            guard signal.count > 2, signal[1] == "16" else { throw HarnessError(description: "\(name): not format 16") }
            let gainText = signal[2].split(separator: "/").first ?? ""
            let parts = gainText.split(separator: "(")
            guard let gain = parts.first.flatMap({ Float($0) }) else {
                throw HarnessError(description: "\(name).hea: unreadable gain \(signal[2])")
            }
            let baseline = parts.count > 1 ? Float(parts[1].dropLast()) ?? 0 : 0
            return (gain, baseline)
        }
        let data = try Data(contentsOf: directory.appendingPathComponent(name + ".dat"))
        let samples = data.count / (2 * count)
        var leads = [[Float]](repeating: [Float](repeating: 0, count: samples), count: count)
        data.withUnsafeBytes { bytes in
            for index in 0..<(samples * count) {
                let value = Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: Int16.self))
                let lead = index % count
                leads[lead][index / count] = (Float(value) - calibrations[lead].baseline) / calibrations[lead].gain
            }
        }
        return (leads, rate)
    }
}

@Suite(.enabled(if: SampleRecordings.arePresent, "../shared/ecg-samples is absent: real-recording tests skipped"))
struct TechnicalAlarmRecordingTests {
    /// Sends `leads` through the daemon's stream pipeline (2.5 s windows every 0.5 s at the recording's rate,
    /// the configured technical limits) and feeds the engine as the inference worker does: faulty windows are
    /// skipped, clean ones classified (with all probabilities 0: no finding can raise).
    func replay(_ leads: [[Float]], rateHz: Int, stream: String) async throws -> [AlertEvent] {
        let technical = TechnicalAlarmSettings.defaults
        let configuration = try PipelineConfiguration(
            sampleRateHz: rateHz,
            windowSamples: rateHz * 5 / 2,
            hopSamples: rateHz / 2,
            leadNames: StandardLead.allCases.map(\.name),
            quality: SignalQualityThresholds(
                flatLinePeakToPeakMillivolts: technical.flatLineMillivolts,
                saturationMillivolts: technical.saturationMillivolts
            )
        )
        let header = try StreamHeader(
            streamID: stream,
            sampleRateHz: rateHz,
            leads: StandardLead.allCases,
            format: .float32
        )
        var bytes = Array(header.jsonLine.utf8)
        let interleaved = (0..<leads[0].count).flatMap { instant in leads.map { $0[instant] } }
        SampleFrame.appendFloat32Frame(interleaved, leadCount: leads.count, firstSampleIndex: 0, to: &bytes)
        var inputs: [AlarmInput] = []
        try await TestStreams.decode(bytes, configuration: configuration) { window in
            let info = window.info
            inputs.append(
                info.quality.hasTechnicalFault
                    ? .faulty(
                        stream: stream,
                        startSeconds: info.startSeconds,
                        endSeconds: info.endSeconds,
                        flags: TechnicalFlags(quality: info.quality)
                    )
                    : .classified(
                        stream: stream,
                        startSeconds: info.startSeconds,
                        endSeconds: info.endSeconds,
                        probabilities: [0, 0, 0]
                    )
            )
        }
        var engine = AlarmEngine(rules: try makeRules())
        var events: [AlertEvent] = []
        for input in inputs + [.ended(stream: stream, .expected)] {
            events += try engine.apply(input)
        }
        return events
    }

    @Test(arguments: SampleRecordings.names)
    func intactRecordingRaisesNoTechnicalAlarm(_ name: String) async throws {
        let record = try SampleRecordings.read(name)
        #expect(record.leads.count == 12)
        #expect(try await replay(record.leads, rateHz: record.rateHz, stream: name).isEmpty)
    }

    @Test(arguments: SampleRecordings.names)
    func flatLinedLeadRaisesLeadOffForThatLeadOnly(_ name: String) async throws {
        var record = try SampleRecordings.read(name)
        let flatFrom = 4 * record.rateHz
        // V1 (index 6) loses its electrode at 4 s: the amplifier holds the last value.
        let held = record.leads[6][flatFrom]
        for index in flatFrom..<record.leads[6].count {
            record.leads[6][index] = held
        }
        let events = try await replay(record.leads, rateHz: record.rateHz, stream: name)
        #expect(events.map(\.kind) == [.technicalRaised, .technicalCleared])
        #expect(events.first?.subject == .technical(.leadOff, lead: "V1"))
        // First window lying entirely after 4 s starts at 4 s; the second faulty one (raise count 2) at 4.5 s.
        #expect(events.first?.windowStartSeconds == 4.5)
        #expect(events.last?.reason == .streamEnded)
    }
}
