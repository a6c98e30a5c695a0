import Foundation
import Glibc
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Systemd
import TestSupport
import Testing

@testable import Monitor

@Suite(.timeLimit(.minutes(1))) struct ReloadServiceTests {
    /// In a child process: SIGHUP until two reloads ran (the first fails, as a bad edit would), each wrapped in
    /// `RELOADING=1` … `READY=1`; then graceful shutdown ends the service.
    @Test func sighupReloadsBetweenReloadingAndReady() async throws {
        let socket = try DatagramSocket()
        let path = socket.path
        let messages = try await socket.collect {
            await #expect(processExitsWith: .success) { [path = path as String] in
                setenv("NOTIFY_SOCKET", path, 1)
                // Until the service traps SIGHUP, a hangup must not end the process; a lost one is sent again below.
                signal(SIGHUP, SIG_IGN)
                let reloads = Atomic<Int>(0)
                let service = ReloadService(
                    notifier: SystemdNotifier(),
                    logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                    status: { "rules reloaded" }
                ) {
                    if reloads.add(1, ordering: .relaxed).newValue == 1 {
                        throw DaemonError.badConfigValue(
                            key: "alarms.confirm_count",
                            value: "x",
                            expected: "an integer"
                        )
                    }
                }
                try await testGracefulShutdown { trigger in
                    async let run: Void = service.run()
                    while reloads.load(ordering: .relaxed) < 2 {
                        kill(getpid(), SIGHUP)
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    trigger.triggerGracefulShutdown()
                    await run
                }
            }
        }
        #expect(messages.count >= 4 && messages.count % 2 == 0, "\(messages)")
        for (index, message) in messages.enumerated() {
            if index % 2 == 0 {
                #expect(message.hasPrefix("RELOADING=1\nMONOTONIC_USEC="), "\(messages)")
            } else {
                #expect(message == "READY=1\nSTATUS=rules reloaded", "\(messages)")
            }
        }
    }
}
