import Logging
import TestSupport
import Testing

@testable import Systemd

@Suite(.timeLimit(.minutes(1))) struct JournalLogHandlerTests {
    @Test func logEventsBecomeStructuredJournalEntries() async throws {
        let journald = try TestJournald()
        defer { journald.stop() }
        let label = "ecg.test.\(journald.namespace)"
        try await journald.write {
            var logger = Logger(label: label) { JournalLogHandler(label: $0, identifier: "ecg-monitor") }
            logger.logLevel = .debug
            logger[metadataKey: "ecg.stream"] = "bed-4"
            logger.warning("lead V1 flat", metadata: ["ecg.lead": "V1", "ecg.count": "3"])
            logger.debug("second", metadata: ["ecg.lead": "V2"])
            logger.trace("dropped by the level")
        }
        let entries = try journald.entries(matching: "LOGGER", anyOf: [label], count: 2)
        let first = try #require(entries.first)
        #expect(first["MESSAGE"] == "lead V1 flat")
        #expect(first["PRIORITY"] == "4")
        #expect(first["SYSLOG_IDENTIFIER"] == "ecg-monitor")
        #expect(first["ECG_LEAD"] == "V1")
        #expect(first["ECG_COUNT"] == "3")
        #expect(first["ECG_STREAM"] == "bed-4")
        #expect(first["CODE_FILE"]?.hasSuffix("JournalLogHandlerTests.swift") == true)
        #expect(first["CODE_FUNC"]?.hasPrefix("logEventsBecomeStructuredJournalEntries") == true)
        #expect(first["CODE_LINE"].flatMap { Int($0) } != nil)
        #expect(entries.last?["PRIORITY"] == "7")
        #expect(entries.last?["ECG_LEAD"] == "V2")
    }

    @Test func metadataKeysMapToValidFieldNames() {
        #expect(JournalLogHandler.fieldName("ecg.lead") == "ECG_LEAD")
        #expect(JournalLogHandler.fieldName("ecg.window-start") == "ECG_WINDOW_START")
        #expect(JournalLogHandler.fieldName("_private") == "PRIVATE")
        #expect(JournalLogHandler.fieldName("9lives") == "LIVES")
        #expect(JournalLogHandler.fieldName("..") == nil)
        #expect(JournalLogHandler.fieldName(String(repeating: "a", count: 80))?.count == 64)
    }

    @Test(
        arguments: zip(
            [Logger.Level.trace, .debug, .info, .notice, .warning, .error, .critical],
            [7, 7, 6, 5, 4, 3, 2]
        )
    )
    func levelsMapToSyslogPriorities(_ level: Logger.Level, _ priority: Int) {
        #expect(JournalLogHandler.syslogPriority(level) == priority)
    }
}
