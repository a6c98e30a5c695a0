import Foundation
import Glibc
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import TestSupport
import Testing

@testable import Systemd

@Suite(.timeLimit(.minutes(1))) struct SystemdServiceTests {
    @Test func heartbeatCheckNamesLoopsThatDidNotAdvance() {
        let inference = Heartbeat(name: "inference-0")
        let ingest = Heartbeat(name: "ingest")
        var check = HeartbeatCheck(heartbeats: [inference, ingest])
        #expect(check.stalledSinceLastCheck() == ["inference-0", "ingest"])
        inference.beat()
        ingest.beat()
        #expect(check.stalledSinceLastCheck().isEmpty)
        inference.beat()
        #expect(check.stalledSinceLastCheck() == ["ingest"])
        ingest.retire()
        inference.beat()
        #expect(check.stalledSinceLastCheck().isEmpty)
        #expect(check.stalledSinceLastCheck() == ["inference-0"])
    }

    /// In a child process with `WATCHDOG_USEC` = 100 ms (a 50 ms tick): pings while the heartbeat advances,
    /// none once it stops, `STOPPING=1` on graceful shutdown. A `X_TEST=stalled` message marks when the
    /// heartbeat stopped; the first check after it may still see the last beats, so at most one ping follows.
    @Test func pingsTheWatchdogOnlyWhileEveryHeartbeatAdvances() async throws {
        let socket = try DatagramSocket()
        let path = socket.path
        let messages = try await socket.collect {
            await #expect(processExitsWith: .success) { [path = path as String] in
                setenv("NOTIFY_SOCKET", path, 1)
                setenv("WATCHDOG_USEC", "100000", 1)
                unsetenv("WATCHDOG_PID")
                let heartbeat = Heartbeat(name: "worker-0")
                let service = SystemdService(
                    notifier: SystemdNotifier(),
                    heartbeats: [heartbeat],
                    logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                    status: { "1 stream" }
                )
                guard service.tickInterval == .milliseconds(50) else { exit(2) }
                try await testGracefulShutdown { trigger in
                    async let run: Void = service.run()
                    let ticker = Task {
                        while !Task.isCancelled {
                            heartbeat.beat()
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    ticker.cancel()
                    await ticker.value
                    try SystemdNotifier().send("X_TEST=stalled")
                    try await Task.sleep(for: .milliseconds(500))
                    trigger.triggerGracefulShutdown()
                    try await run
                }
            }
        }
        #expect(messages.first == "READY=1\nSTATUS=1 stream")
        #expect(messages.last == "STOPPING=1")
        let marker = try #require(messages.firstIndex(of: "X_TEST=stalled"))
        let before = messages[..<marker].filter { $0 == "WATCHDOG=1" }.count
        let after = messages[marker...].filter { $0 == "WATCHDOG=1" }.count
        #expect(before >= 3, "\(messages)")
        #expect(after <= 1, "\(messages)")
    }

    @Test func withoutWatchdogItOnlyReportsStatus() async {
        await #expect(processExitsWith: .success) {
            unsetenv("WATCHDOG_USEC")
            let service = SystemdService(
                notifier: SystemdNotifier(),
                heartbeats: [],
                statusInterval: .seconds(7),
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                status: { "idle" }
            )
            guard service.tickInterval == .seconds(7) else { exit(2) }
        }
    }
}
