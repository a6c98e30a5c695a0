import InMemoryLogging
import Logging
import Testing

@testable import Monitor

@Suite struct EscapingLogHandlerTests {
    /// A lead name carrying a newline and a fake log line, an escape sequence and a NUL stays on one line.
    @Test func clientTextCannotForgeALogLine() throws {
        let memory = InMemoryLogHandler()
        var logger = Logger(label: "test") { _ in EscapingLogHandler(wrapping: memory) }
        logger[metadataKey: "ecg.stream"] = "bed\r1"
        let forged = "V1\n2026-01-01T00:00:00+0000 critical ecg-monitor: FORGED-LINE\u{1B}[2J\0"
        logger.warning("unknown lead \(forged)", metadata: ["ecg.lead": "\(forged)"])
        let entry = try #require(memory.entries.first)
        let text = "\(entry.message) \(entry.metadata)"
        #expect(!text.contains("\n") && !text.contains("\r") && !text.contains("\u{1B}") && !text.contains("\0"))
        #expect(entry.message.description.contains("FORGED-LINE"), "the text is kept, escaped")
        #expect(entry.metadata["ecg.stream"] == "bed\\r1")
    }
}
