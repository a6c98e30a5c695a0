import Foundation
import Testing

@testable import Stream

@Suite struct WFDBRecordTests {
    @Test func readsFormat16() throws {
        let record = try WFDBRecord.read(
            path: try TestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00008_lr") + ".hea"
        )
        #expect(record.header.sampleRateHz == 100)
        #expect(record.sampleCount == 1000)
        #expect(record.header.signals.map { StandardLead(name: $0.description) } == StandardLead.allCases)
        #expect(record.header.signals[0].gainPerMillivolt == 1000)
        // The header's first-sample field: I starts at −41 adu.
        #expect(record.samples[0][0] == -41 && record.samples[1][0] == -80)
    }

    @Test func readsChallengeMatFilesWithAByteOffsetAsTheSameSamples() throws {
        let mat = try WFDBRecord.read(path: try TestSupport.samplePath("12-lead-ecg-classifier/HR00008"))
        let dat = try WFDBRecord.read(path: try TestSupport.samplePath("ECGClassification_PTBXL/00008_hr"))
        #expect(mat.header.signals[0].byteOffset == 24)
        #expect(mat.sampleCount == 5000)
        #expect(mat.samples == dat.samples)
        let torch = try WFDBRecord.read(path: try TestSupport.samplePath("torch_ecg/HR06000"))
        #expect(torch.sampleCount == 5000 && torch.samples.count == 12)
        #expect(torch.samples[0][0] == 10)
    }

    @Test func interleavesEverySignalsMillivoltsSampleBySample() throws {
        let record = try WFDBRecord.read(path: try TestSupport.samplePath("wfdb-python/s0010_re"))
        let frames = record.interleavedMillivolts()
        let signals = record.header.signals.count
        #expect(frames.count == record.sampleCount * signals)
        for signal in [0, 7, signals - 1] {
            let millivolts = record.millivolts(signal: signal)
            for sample in [0, 1, 20_000, record.sampleCount - 1] {
                #expect(frames[sample * signals + signal].bitPattern == millivolts[sample].bitPattern)
            }
        }
    }

    @Test func readsMultiFileRecordsWithLowercaseLeadNames() throws {
        let record = try WFDBRecord.read(path: try TestSupport.samplePath("wfdb-python/s0010_re"))
        #expect(record.header.signals.count == 15)
        #expect(record.sampleCount == 38400)
        #expect(record.samples[0][0] == -489 && record.samples[12][0] == -3 && record.samples[14][0] == -18)
        #expect(record.standardLeadSignals.map(\.lead) == StandardLead.allCases)
        let header = try record.streamHeader(streamID: "s0010")
        #expect(header.sampleRateHz == 1000)
        #expect(
            header.format == .int16(gain: Array(repeating: 2000, count: 12), baseline: Array(repeating: 0, count: 12))
        )
    }

    @Test func decodesFormat212AsThePhysioNetSpecificationPacksIt() {
        // Samples 0x123 and −2 (0xFFE) pack as 0x23, 0xF1, 0xFE; then 2047 and −2048 (invalid) as 0xFF, 0x87, 0x00.
        let bytes: ArraySlice<UInt8> = [0x23, 0xF1, 0xFE, 0xFF, 0x87, 0x00]
        let signals = WFDBRecord.decodeFormat212(bytes, signalCount: 2)
        #expect(signals == [[0x123, 2047], [-2, Int16.min]])
    }

    @Test func readsAFormat212RecordFromDisk() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "wfdb212-\(UInt64.random(in: 0...UInt64.max))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "r212 2 250 3\nr212.dat 212 200/mV 12 0 0 0 0 I\nr212.dat 212 200(5)/mV 12 0 0 0 0 II\n"
            .write(to: directory.appendingPathComponent("r212.hea"), atomically: true, encoding: .utf8)
        // Instants (1, 2), (3, −1), (205, 0), packed byte for byte as wfdb-python 4.x `wrsamp(fmt="212")` writes them.
        let packed: [UInt8] = [0x01, 0x00, 0x02, 0x03, 0xF0, 0xFF, 0xCD, 0x00, 0x00]
        try Data(packed).write(to: directory.appendingPathComponent("r212.dat"))
        let record = try WFDBRecord.read(path: directory.appendingPathComponent("r212").path)
        #expect(record.samples == [[1, 3, 205], [2, -1, 0]])
        #expect(record.millivolts(signal: 1) == [Float(-3.0 / 200), -0.03, -0.025])
        #expect(record.header.signals[0].baseline == 0)
    }

    @Test(arguments: [
        ("r 2 500 10\nr.dat 16 200 16 0 0 0 0 I\n", "announces 2 signals"),
        ("r/2 2 500 10\n", "multi-segment"),
        ("r 1 500 10\nr.dat 8 200 16 0 0 0 0 I\n", "format '8' is not supported"),
        ("r 1 500 10\nr.dat 16x2 200 16 0 0 0 0 I\n", "multiple samples per frame"),
        ("r 1 500 10\nr.dat 16 200/mmHg 16 0 0 0 0 I\n", "units 'mmhg'"),
        ("r 1 abc 10\nr.dat 16 200 16 0 0 0 0 I\n", "sampling frequency"),
        ("# only a comment\n", "empty header"),
    ])
    func refusesHeadersItCannotRead(text: String, reason: String) {
        #expect {
            try WFDBHeader.parse(text, path: "r.hea")
        } throws: { error in
            guard case .badRecord(_, let message) = error as? StreamError else { return false }
            return message.contains(reason)
        }
    }

    @Test func missingRecordIsNamed() {
        #expect {
            try WFDBRecord.read(path: "/nonexistent/record")
        } throws: { error in
            guard case .badRecord(let path, let reason) = error as? StreamError else { return false }
            return path == "/nonexistent/record" && reason.contains("no header file")
        }
    }

    @Test func shortSignalFileIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "wfdbshort-\(UInt64.random(in: 0...UInt64.max))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "s 1 100 10\ns.dat 16 200 16 0 0 0 0 I\n".write(
            to: directory.appendingPathComponent("s.hea"),
            atomically: true,
            encoding: .utf8
        )
        try Data([1, 0, 2, 0]).write(to: directory.appendingPathComponent("s.dat"))
        #expect {
            try WFDBRecord.read(path: directory.appendingPathComponent("s").path)
        } throws: { error in
            guard case .badRecord(_, let reason) = error as? StreamError else { return false }
            return reason.contains("holds 2 samples per signal, header says 10")
        }
    }

    @Test(arguments: ["5.5e38", "1e300", "99.5", "1001"])
    func refusesToStreamARateTheProtocolCannotCarry(rate: String) throws {
        let header = try WFDBHeader.parse("r 1 \(rate) 2\nr.dat 16 200 16 0 0 0 0 I\n", path: "r.hea")
        let record = try WFDBRecord.decode(header: header, headerPath: "r.hea") { name throws(StreamError) in
            (name, [1, 0, 2, 0])
        }
        let error = #expect(throws: StreamError.self) { try record.streamHeader(streamID: "r") }
        #expect(Self.badRecordReason(error)?.contains("is not an integer in 100...1000") == true)
    }

    // MARK: - Confinement to the record's directory

    /// A fresh temporary directory, removed by the caller.
    private static func temporaryDirectory(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(name)-\(UInt64.random(in: 0...UInt64.max))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    private static func badRecordReason(_ error: (any Error)?) -> String? {
        guard case .badRecord(_, let reason) = error as? StreamError else { return nil }
        return reason
    }

    @Test(arguments: ["../../../etc/passwd", "/etc/passwd", "sub/../../r.dat", "..", "a/../.."])
    func refusesASignalFileOutsideTheRecordsDirectory(fileName: String) {
        let error = #expect(throws: StreamError.self) {
            try WFDBHeader.parse("r 1 500 10\n\(fileName) 16 200 16 0 0 0 0 I\n", path: "r.hea")
        }
        #expect(Self.badRecordReason(error)?.hasPrefix("signal 1: signal file '\(fileName)'") == true)
    }

    @Test func refusesToReadAPasswordFileNamedByAHeader() throws {
        let directory = try Self.temporaryDirectory("wfdbescape")
        defer { try? FileManager.default.removeItem(at: directory) }
        try "r 1 100 10\n../../../../../../../../etc/passwd 16 200 16 0 0 0 0 I\n".write(
            to: directory.appendingPathComponent("r.hea"), atomically: true, encoding: .utf8)
        let error = #expect(throws: StreamError.self) {
            try WFDBRecord.read(path: directory.appendingPathComponent("r").path)
        }
        #expect(Self.badRecordReason(error)?.contains("leads out of the record's directory") == true)
    }

    @Test func refusesASymbolicLinkThatLeavesTheRecordsDirectory() throws {
        let directory = try Self.temporaryDirectory("wfdblink")
        defer { try? FileManager.default.removeItem(at: directory) }
        let recordDirectory = directory.appendingPathComponent("record")
        try FileManager.default.createDirectory(at: recordDirectory, withIntermediateDirectories: true)
        try Data([1, 0, 2, 0]).write(to: directory.appendingPathComponent("outside.dat"))
        try FileManager.default.createSymbolicLink(
            atPath: recordDirectory.appendingPathComponent("r.dat").path, withDestinationPath: "../outside.dat")
        try "r 1 100 2\nr.dat 16 200 16 0 0 0 0 I\n".write(
            to: recordDirectory.appendingPathComponent("r.hea"), atomically: true, encoding: .utf8)
        let error = #expect(throws: StreamError.self) {
            try WFDBRecord.read(path: recordDirectory.appendingPathComponent("r").path)
        }
        #expect(Self.badRecordReason(error)?.contains("outside the record's directory") == true)
    }

    @Test func followsSymbolicLinksThatStayInside() throws {
        let directory = try Self.temporaryDirectory("wfdbinside")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data([1, 0, 2, 0]).write(to: data.appendingPathComponent("real.dat"))
        try FileManager.default.createSymbolicLink(
            atPath: directory.appendingPathComponent("r.dat").path, withDestinationPath: "data/real.dat")
        try "r 1 100 2\nr.dat 16 200 16 0 0 0 0 I\n".write(
            to: directory.appendingPathComponent("r.hea"), atomically: true, encoding: .utf8)
        // The record's own directory reached through a link is still its directory.
        let linkedDirectory = directory.appendingPathComponent("linked")
        try FileManager.default.createSymbolicLink(atPath: linkedDirectory.path, withDestinationPath: directory.path)
        for base in [directory, linkedDirectory] {
            let record = try WFDBRecord.read(path: base.appendingPathComponent("r").path)
            #expect(record.samples == [[1, 2]])
        }
    }

    // MARK: - Gains

    @Test(arguments: ["1e-320", "-200", "inf", "nan", "1e-300", "0.01"])
    func refusesAGainThatCannotScaleSamplesNamingIt(gain: String) {
        let error = #expect(throws: StreamError.self) {
            try WFDBHeader.parse("r 1 500 10\nr.dat 16 \(gain)/mV 16 0 0 0 0 I\n", path: "r.hea")
        }
        let reason = Self.badRecordReason(error) ?? ""
        #expect(reason.hasPrefix("signal 1: ") && reason.contains(gain))
    }

    @Test func readsAZeroGainAsTheDefault200() throws {
        let header = try WFDBHeader.parse("r 1 500 10\nr.dat 16 0 16 0 0 0 0 I\n", path: "r.hea")
        #expect(header.signals[0].gainPerMillivolt == 200)
    }

    @Test func escapesHeaderTextInItsErrors() {
        let error = #expect(throws: StreamError.self) {
            try WFDBHeader.parse("r 1 500 10\nr.dat 16 200/\u{1B}[31m\u{7F} 16 0 0 0 0 I\n", path: "r.hea")
        }
        let description = error?.description ?? ""
        #expect(description.contains(#"\u{1B}[31m\u{7F}"#))
        #expect(!description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }
}
