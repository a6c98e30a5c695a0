import ArgumentParser
import Testing

@testable import Daemon

@Suite struct CommandTests {
    @Test func rootCommandIsNamedEcgMonitor() {
        #expect(EcgMonitor.configuration.commandName == "ecg-monitor")
    }
}
