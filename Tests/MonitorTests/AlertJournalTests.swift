import Alarms
import AlarmsTestSupport
import Systemd
import TestSupport
import Testing

@testable import Monitor

/// Alert events through a real journald and back.
@Suite(.timeLimit(.minutes(1))) struct AlertJournalTests {
    @Test func alertEventsReadBackFromARealJournaldFieldByField() async throws {
        let journald = try TestJournald()
        defer { journald.stop() }
        try await journald.write {
            for event in sampleEvents {
                try JournalWriter().send(event.journalFields)
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
}
