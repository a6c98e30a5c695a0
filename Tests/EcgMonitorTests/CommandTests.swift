import ArgumentParser
import Testing

@testable import ecg_monitor

@Suite struct CommandTests {
    @Test func rootCommandIsNamedEcgMonitor() {
        #expect(EcgMonitor.configuration.commandName == "ecg-monitor")
    }
}
