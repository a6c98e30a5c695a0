import Foundation
import Testing

@testable import Stream

/// The signal-quality verdicts over the whole PTB-XL (100 Hz), split by the dataset's own noise annotations.
///
/// Runs only where `ECG_PTBXL_DIR` names a PhysioNet PTB-XL copy (`ptbxl_database.csv`, `records100/`); it
/// prints the shares that ``SignalQualityThresholds``' documentation quotes and bounds the unannotated ones.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ECG_PTBXL_DIR"] != nil))
struct PTBXLSurveyTests {
    static let annotationColumns = [
        "baseline_drift_present", "static_noise_present", "burst_noise_present", "electrodes_problems_present",
    ]

    /// The fields of one CSV line; quoted fields may hold commas.
    static func fields(_ line: Substring) -> [Substring] {
        var fields: [Substring] = []
        var start = line.startIndex
        var quoted = false
        for index in line.indices {
            if line[index] == "\"" { quoted.toggle() }
            if line[index] == "," && !quoted {
                fields.append(line[start..<index])
                start = line.index(after: index)
            }
        }
        fields.append(line[start...])
        return fields
    }

    struct Tally {
        var records = 0
        var windows = 0
        var noisyWindows = 0
        var offWindows = 0
        var recordsUnclassifiable = 0
        var recordsWithNoisyLead = 0
        var recordsWithMaskedLead = 0
        var recordsWandering = 0

        func share(_ count: Int, of total: Int) -> String {
            String(format: "%.2f%%", 100 * Double(count) / Double(max(total, 1)))
        }

        var summary: String {
            "\(records) records: unclassifiable \(share(recordsUnclassifiable, of: records)) (windows noisy "
                + "\(share(noisyWindows, of: windows)), too many off \(share(offWindows, of: windows))); any lead "
                + "noisy \(share(recordsWithNoisyLead, of: records)), "
                + "masked \(share(recordsWithMaskedLead, of: records)), wander \(share(recordsWandering, of: records))"
        }
    }

    @Test func fewUnannotatedRecordsAreFlagged() throws {
        let root = try #require(ProcessInfo.processInfo.environment["ECG_PTBXL_DIR"])
        let database = try String(contentsOfFile: root + "/ptbxl_database.csv", encoding: .utf8)
        let lines = database.split(whereSeparator: \.isNewline)
        let columns = Self.fields(lines[0]).map(String.init)
        let file = try #require(columns.firstIndex(of: "filename_lr"))
        let annotations = try Self.annotationColumns.map { try #require(columns.firstIndex(of: $0)) }
        var unannotated = Tally()
        var byAnnotation = [Tally](repeating: Tally(), count: annotations.count)
        let configuration = try TestSupport.configuration()
        for line in lines.dropFirst() {
            let row = Self.fields(line)
            let record = try WFDBRecord.read(path: root + "/" + row[file])
            let header = try record.streamHeader(streamID: "ptbxl")
            var bytes = Array(header.jsonLine.utf8)
            record.appendFrame(instants: 0..<record.sampleCount, firstSampleIndex: 0, to: &bytes)
            let pipeline = try StreamPipeline(header: header, configuration: configuration)
            let decoder = try FrameDecoder()
            var tally = Tally()
            tally.records = 1
            var (unclassifiable, noisy, masked, wandering) = (false, false, false, false)
            var offset = 0
            while offset < bytes.count {
                offset += bytes[offset...].withUnsafeBytes { decoder.append($0) }
                while let item = try decoder.next() {
                    guard case .frame(let frame) = item else { continue }
                    try pipeline.append(frame) { window in
                        let quality = window.info.quality
                        tally.windows += 1
                        if quality.verdict == .noisySignal { tally.noisyWindows += 1 }
                        if quality.verdict == .tooManyLeadsOff { tally.offWindows += 1 }
                        unclassifiable = unclassifiable || !quality.isClassifiable
                        noisy = noisy || !quality.noisyLeads.isEmpty
                        masked = masked || !quality.maskedLeads.isEmpty
                        wandering = wandering || !quality.wanderingLeads.isEmpty
                    }
                }
            }
            tally.recordsUnclassifiable = unclassifiable ? 1 : 0
            tally.recordsWithNoisyLead = noisy ? 1 : 0
            tally.recordsWithMaskedLead = masked ? 1 : 0
            tally.recordsWandering = wandering ? 1 : 0
            let flags = annotations.map { !row[$0].isEmpty && row[$0] != "0" }
            if !flags.contains(true) { unannotated.add(tally) }
            for (index, flag) in flags.enumerated() where flag { byAnnotation[index].add(tally) }
        }
        print("unannotated: \(unannotated.summary)")
        for (name, tally) in zip(Self.annotationColumns, byAnnotation) { print("\(name): \(tally.summary)") }
        #expect(unannotated.records > 0)
        #expect(Double(unannotated.recordsUnclassifiable) <= 0.005 * Double(unannotated.records))
    }
}

extension PTBXLSurveyTests.Tally {
    mutating func add(_ other: Self) {
        records += other.records
        windows += other.windows
        noisyWindows += other.noisyWindows
        offWindows += other.offWindows
        recordsUnclassifiable += other.recordsUnclassifiable
        recordsWithNoisyLead += other.recordsWithNoisyLead
        recordsWithMaskedLead += other.recordsWithMaskedLead
        recordsWandering += other.recordsWandering
    }
}
