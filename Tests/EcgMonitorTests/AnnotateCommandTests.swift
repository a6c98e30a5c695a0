import ArgumentParser
import Foundation
import TestSupport
import Testing

@testable import ecg_monitor

@Suite struct AnnotateCommandTests {
    @Test func writesTheBeatsOfARecordAsAWFDBAnnotationFile() throws {
        let record = try DaemonTestSupport.samplePath("ECGClassification_PTBXL/00008_hr")
        let directory = try DaemonTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let command = try AnnotateCommand.parse([record, "--out", directory])
        try command.run()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/00008_hr.qrs")))
        #expect(bytes.count % 2 == 0)
        #expect(bytes.suffix(2) == [0, 0])
        let words = stride(from: 0, to: bytes.count - 2, by: 2).map { Int(bytes[$0]) | Int(bytes[$0 + 1]) << 8 }
        // 10 s at 73.7 bpm (wfdb's xqrs), less the first 2 s the detector learns in: a SKIP to the first beat
        // (more than 1023 samples in), then 10 normal beats.
        #expect(words.count == 13)
        #expect(words.first == 59 << 10)
        let beatWords = words.dropFirst(3)
        #expect(beatWords.allSatisfy { $0 >> 10 == 1 })
        let intervals = beatWords.dropFirst().map { Double($0 & 0x3FF) / 500 }
        #expect(intervals.allSatisfy { abs($0 - 60 / 73.7) < 0.05 })
    }

    @Test func refusesANonPositiveBenchTime() {
        #expect(throws: (any Error).self) { try AnnotateCommand.parse(["record", "--bench", "0"]) }
    }

    @Test func refusesAnOutputDirectoryThatDoesNotExist() throws {
        let missing = try DaemonTestSupport.temporaryDirectory() + "/missing"
        do {
            _ = try AnnotateCommand.parse(["record", "--out", missing])
            Issue.record("a missing --out directory was accepted")
        } catch {
            #expect(AnnotateCommand.message(for: error) == "--out \(missing) is not a directory")
        }
    }
}
