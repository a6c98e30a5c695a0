import Foundation
import Testing

@testable import Daemon

/// Events covering every optional field: a finding raised, a finding cleared, a per-lead technical alarm.
let sampleEvents: [AlertEvent] = [
    AlertEvent(
        kind: .raised,
        stream: "bed-4",
        subject: .finding(code: "AFIB", description: "atrial fibrillation"),
        priority: .medium,
        probability: 0.9137,
        threshold: 0.41,
        windowStartSeconds: 12,
        windowEndSeconds: 14.5,
        model: "ecg-incepse-all"
    ),
    AlertEvent(
        kind: .cleared,
        stream: "bed-4",
        subject: .finding(code: "3AVB", description: "third degree AV block"),
        priority: .high,
        probability: 0.02,
        threshold: 0.6,
        windowStartSeconds: 80.5,
        windowEndSeconds: 83,
        reason: .acknowledged,
        model: "ecg-incepse-all"
    ),
    AlertEvent(
        kind: .technicalRaised,
        stream: "bed 7 \"east\"",
        subject: .technical(.leadOff, lead: "V1"),
        priority: .low,
        windowStartSeconds: 3.5,
        windowEndSeconds: 6,
        model: "ecg-incepse-all"
    ),
]

@Suite(.timeLimit(.minutes(1))) struct JournalWriterTests {
    @Test func alertEventsReadBackFromARealJournaldFieldByField() async throws {
        let journald = try TestJournald()
        defer { journald.stop() }
        try await journald.write {
            for event in sampleEvents {
                try JournalWriter().send(event)
            }
        }
        let entries = try journald.entries(
            matching: "SYSLOG_IDENTIFIER",
            anyOf: ["ecg-monitor"],
            count: sampleEvents.count
        )
        #expect(entries.count == sampleEvents.count)
        for (entry, event) in zip(entries, sampleEvents) {
            for (name, value) in event.journalFields {
                #expect(entry[name] == value, "field \(name) of \(event.kind)")
            }
            let ours = entry.keys.filter { $0.hasPrefix("ECG_") }
            #expect(Set(ours) == Set(event.journalFields.map(\.name).filter { $0.hasPrefix("ECG_") }))
            #expect(try AlertEvent(journalFields: entry) == event)
        }
        #expect(entries.map { $0["PRIORITY"] } == ["3", "5", "4"])
        #expect(
            entries.map { $0["MESSAGE_ID"] } == [
                AlertEvent.Kind.raised.messageID, AlertEvent.Kind.cleared.messageID,
                AlertEvent.Kind.technicalRaised.messageID,
            ]
        )
    }

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
                try JournalWriter().send(sampleEvents[0])
            } catch {
                outcome.set(error)
            }
        }
        #expect(outcome.get() as? DaemonError == .systemCall(name: "sd_journal_sendv", errno: ECONNREFUSED))
    }

    @Test func missingJournalIsDetectedBeforeEntriesVanish() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-none-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await TestJournald.withJournalSockets(in: directory) {
            #expect(!JournalWriter().isJournalAvailable)
            // libsystemd drops entries silently when there is no socket; this is why the check exists.
            try JournalWriter().send(sampleEvents[0])
        }
    }
}
