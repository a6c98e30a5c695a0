import Alarms
import AlarmsTestSupport
import ArgumentParser
import Foundation
import Systemd
import TestSupport
import Testing

@testable import ecg_monitor

@Suite(.timeLimit(.minutes(1))) struct AlertsCommandTests {
    /// The `ecg-monitor` executable built next to the test bundle.
    static func executable() throws -> URL {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let url = directory.appendingPathComponent("ecg-monitor")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw HarnessError(description: "\(url.path) is missing: build it with `swift build` before `swift test`")
        }
        return url
    }

    /// Runs `ecg-monitor` with `arguments`; returns its exit status, standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outputData, as: UTF8.self),
            String(decoding: errorData, as: UTF8.self)
        )
    }

    @Test func printsJSONLinesOfOneStreamFromANamespace() async throws {
        let journald = try TestJournald()
        defer { journald.stop() }
        try await journald.write {
            for event in sampleEvents {
                try JournalWriter().send(event.journalFields)
            }
        }
        _ = try journald.entries(matching: "SYSLOG_IDENTIFIER", anyOf: ["ecg-monitor"], count: sampleEvents.count)
        let result = try Self.run(["alerts", "--namespace", journald.namespace, "--stream", "bed 7 \"east\"", "--json"])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any]
        #expect(object?["condition"] as? String == "lead-off")
        #expect(object?["message"] as? String == sampleEvents[2].message)
    }

    @Test func badArgumentsFailWithAMessage() throws {
        let badTime = try Self.run(["alerts", "--since", "last tuesday"])
        #expect(badTime.status != 0)
        #expect(badTime.error.contains("cannot read time \"last tuesday\""))
        let both = try Self.run(["alerts", "--namespace", "a", "--directory", "/tmp"])
        #expect(both.status != 0)
        #expect(both.error.contains("--directory and --namespace exclude each other"))
        let missing = try Self.run(["alerts", "--directory", "/nonexistent/journal"])
        #expect(missing.status != 0)
        #expect(missing.error.contains("sd_journal_open_directory failed"))
    }

    @Test func parsesItsOptions() throws {
        let command = try AlertsCommand.parse(["-f", "--stream", "bed-2", "--since", "-10min", "--json"])
        #expect(command.follow && command.json)
        #expect(command.stream == "bed-2")
        #expect(command.since == "-10min")
    }
}
