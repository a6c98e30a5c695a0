import AlarmsTestSupport
import Foundation
import Testing

@testable import Alarms

@Suite struct AlertEventTests {
    @Test func messageSaysWhatHappenedInOneLine() {
        #expect(
            sampleEvents.map(\.message) == [
                "bed-4: AFIB (atrial fibrillation) raised, medium priority, p=0.91 (threshold 0.41), window 12.0–14.5 s",
                "bed-4: 3AVB (third degree AV block) cleared, high priority, p=0.02 (threshold 0.60), acknowledged, window 80.5–83.0 s",
                "bed 7 \"east\": technical alarm lead off or flat line on lead V1 raised, low priority, window 3.5–6.0 s",
            ]
        )
    }

    @Test func journalFieldsFollowTheDocumentedNames() {
        let fields = sampleEvents[0].journalFields
        #expect(
            fields.map(\.name) == [
                "MESSAGE", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER", "ECG_EVENT", "ECG_STREAM", "ECG_CLASS",
                "ECG_CLASS_DESCRIPTION", "ECG_PRIORITY", "ECG_PROBABILITY", "ECG_THRESHOLD", "ECG_WINDOW_START",
                "ECG_WINDOW_END", "ECG_MODEL",
            ]
        )
        #expect(
            fields.map(\.value).suffix(10) == [
                "raised", "bed-4", "AFIB", "atrial fibrillation", "medium", "0.9137", "0.41", "12.0", "14.5",
                "ecg-incepse-all",
            ]
        )
        let technical = Dictionary(uniqueKeysWithValues: sampleEvents[2].journalFields.map { ($0.name, $0.value) })
        #expect(technical["ECG_CONDITION"] == "lead-off")
        #expect(technical["ECG_LEAD"] == "V1")
        #expect(technical["ECG_CLASS"] == nil && technical["ECG_PROBABILITY"] == nil)
    }

    @Test func messageIDsAreDistinctAndWellFormed() {
        let ids = AlertEvent.Kind.allCases.map(\.messageID)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() })
    }

    @Test func catalogExplainsEveryMessageID() throws {
        let catalog = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("systemd/ecg-monitor.catalog")
        let text = try String(contentsOf: catalog, encoding: .utf8)
        for id in AlertEvent.Kind.allCases.map(\.messageID) {
            #expect(text.contains("-- \(id)\n"), "catalog lacks \(id)")
        }
    }

    @Test func journalFieldsReadBackToTheSameEvent() throws {
        for event in sampleEvents {
            let fields = Dictionary(uniqueKeysWithValues: event.journalFields.map { ($0.name, $0.value) })
            #expect(try AlertEvent(journalFields: fields) == event)
        }
    }

    @Test func unreadableEntriesNameTheField() throws {
        var fields = Dictionary(uniqueKeysWithValues: sampleEvents[0].journalFields.map { ($0.name, $0.value) })
        fields["ECG_PROBABILITY"] = "high"
        #expect(throws: AlarmsError.malformedAlertEntry(field: "ECG_PROBABILITY", value: "high")) {
            try AlertEvent(journalFields: fields)
        }
        fields["ECG_PROBABILITY"] = nil
        fields["ECG_STREAM"] = nil
        #expect(throws: AlarmsError.malformedAlertEntry(field: "ECG_STREAM", value: nil)) {
            try AlertEvent(journalFields: fields)
        }
    }

    @Test func jsonLineHoldsTheSameFieldsAsTheJournal() throws {
        let line = sampleEvents[2].jsonLine(timestampMicroseconds: 1_764_542_770_446_510)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2025-11-30T22:46:10.446510Z")
        #expect(object["message_id"] as? String == AlertEvent.Kind.technicalRaised.messageID)
        #expect(object["message"] as? String == sampleEvents[2].message)
        #expect(object["stream"] as? String == "bed 7 \"east\"")
        #expect(object["condition"] as? String == "lead-off")
        #expect(object["lead"] as? String == "V1")
        #expect(object["window_start"] as? Double == 3.5)
        #expect(object["window_end"] as? Double == 6)
        #expect(object.count == 11)
        let finding = try #require(
            try JSONSerialization.jsonObject(with: Data(sampleEvents[0].jsonLine(timestampMicroseconds: 0).utf8))
                as? [String: Any]
        )
        #expect(finding["probability"] as? Double == 0.9137)
        #expect(finding["class"] as? String == "AFIB")
        #expect(finding["time"] as? String == "1970-01-01T00:00:00.000000Z")
    }

    @Test func formatsFixedDecimals() {
        #expect(AlertEvent.format(0.005, digits: 2) == "0.01")
        #expect(AlertEvent.format(12, digits: 1) == "12.0")
        #expect(AlertEvent.format(-0.25, digits: 1) == "-0.3")
        #expect(AlertEvent.format(3.04, digits: 2) == "3.04")
    }
}
