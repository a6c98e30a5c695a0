import Alarms
import AlarmsTestSupport
import Foundation
import TestSupport
import Testing

@testable import Monitor

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
    /// Cuts `leads` into 2.5 s windows every 0.5 s, inspects each, and feeds the engine as the wiring would:
    /// faulty windows are skipped, clean ones classified (with all probabilities 0: no finding can raise).
    func replay(_ leads: [[Float]], rateHz: Int, stream: String) throws -> [AlertEvent] {
        var engine = AlarmEngine(rules: try makeRules())
        let length = rateHz * 5 / 2
        let hop = rateHz / 2
        var events: [AlertEvent] = []
        var window = [Float](repeating: 0, count: leads.count * length)
        for start in stride(from: 0, through: leads[0].count - length, by: hop) {
            for (lead, samples) in leads.enumerated() {
                window.replaceSubrange(lead * length..<(lead + 1) * length, with: samples[start..<start + length])
            }
            let flags = window.withUnsafeBufferPointer {
                TechnicalFlags(
                    inspecting: $0,
                    leads: leads.count,
                    samplesPerLead: length,
                    flatLineMillivolts: Float(Config.defaults.technical.flatLineMillivolts),
                    saturationMillivolts: Float(Config.defaults.technical.saturationMillivolts)
                )
            }
            let startSeconds = Double(start) / Double(rateHz)
            let endSeconds = startSeconds + 2.5
            events +=
                flags.isFaulted
                ? try engine.skip(stream: stream, startSeconds: startSeconds, endSeconds: endSeconds, flags: flags)
                : try engine.classify(
                    stream: stream,
                    startSeconds: startSeconds,
                    endSeconds: endSeconds,
                    probabilities: [0, 0, 0]
                )
        }
        return events + engine.ended(stream: stream, expected: true)
    }

    @Test(arguments: SampleRecordings.names)
    func intactRecordingRaisesNoTechnicalAlarm(_ name: String) throws {
        let record = try SampleRecordings.read(name)
        #expect(record.leads.count == 12)
        #expect(try replay(record.leads, rateHz: record.rateHz, stream: name).isEmpty)
    }

    @Test(arguments: SampleRecordings.names)
    func flatLinedLeadRaisesLeadOffForThatLeadOnly(_ name: String) throws {
        var record = try SampleRecordings.read(name)
        let flatFrom = 4 * record.rateHz
        // V1 (index 6) loses its electrode at 4 s: the amplifier holds the last value.
        let held = record.leads[6][flatFrom]
        for index in flatFrom..<record.leads[6].count {
            record.leads[6][index] = held
        }
        let events = try replay(record.leads, rateHz: record.rateHz, stream: name)
        #expect(events.map(\.kind) == [.technicalRaised, .technicalCleared])
        #expect(events.first?.subject == .technical(.leadOff, lead: "V1"))
        // First window lying entirely after 4 s starts at 4 s; the second faulty one (raise count 2) at 4.5 s.
        #expect(events.first?.windowStartSeconds == 4.5)
        #expect(events.last?.reason == .streamEnded)
    }
}
