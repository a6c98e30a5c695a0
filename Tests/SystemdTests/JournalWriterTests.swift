import Foundation
import TestSupport
import Testing

@testable import Systemd

@Suite(.timeLimit(.minutes(1))) struct JournalWriterTests {
    static let entry = [("MESSAGE", "test entry"), ("SYSLOG_IDENTIFIER", "ecg-test")]

    @Test func multiLineValuesSurviveTheJournal() async throws {
        let journald = try TestJournald()
        defer { journald.stop() }
        let value = "first line\nsecond line = with equals\n"
        try await journald.write {
            try JournalWriter().send([("MESSAGE", "multi"), ("SYSLOG_IDENTIFIER", "ecg-test"), ("ECG_NOTE", value)])
        }
        let entries = try journald.entries(matching: "SYSLOG_IDENTIFIER", anyOf: ["ecg-test"], count: 1)
        #expect(entries.first?["ECG_NOTE"] == value)
    }

    @Test func sendingToAStaleSocketFailsWithAnError() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-stale-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A socket file nobody listens on: what a crashed journald leaves behind.
        _ = try DatagramSocket(path: directory + "/socket", unlinkOnClose: false)
        let outcome = OutcomeBox()
        try await TestJournald.withJournalSockets(in: directory) {
            #expect(JournalWriter().isJournalAvailable)
            do {
                try JournalWriter().send(Self.entry)
            } catch {
                outcome.set(error)
            }
        }
        #expect(outcome.get() as? SystemdError == .systemCall(name: "sd_journal_sendv", errno: ECONNREFUSED))
    }

    @Test func missingJournalIsDetectedBeforeEntriesVanish() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-none-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await TestJournald.withJournalSockets(in: directory) {
            #expect(!JournalWriter().isJournalAvailable)
            // libsystemd drops entries silently when there is no socket; this is why the check exists.
            try JournalWriter().send(Self.entry)
        }
    }
}
