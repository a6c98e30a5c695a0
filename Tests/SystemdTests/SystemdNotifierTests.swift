import Foundation
import Glibc
import TestSupport
import Testing

@testable import Systemd

/// The notifier reads the process environment, so each test runs it in a child process (an exit test) with
/// `NOTIFY_SOCKET` pointing at a datagram socket this test owns.
@Suite(.timeLimit(.minutes(1))) struct SystemdNotifierTests {
    @Test func sendsEachProtocolMessageToTheNotifySocket() async throws {
        let socket = try DatagramSocket()
        let path = socket.path
        let messages = try await socket.collect {
            await #expect(processExitsWith: .success) { [path = path as String] in
                setenv("NOTIFY_SOCKET", path, 1)
                setenv("WATCHDOG_USEC", "3000000", 1)
                unsetenv("WATCHDOG_PID")
                let notifier = SystemdNotifier()
                guard notifier.isEnabled, notifier.watchdogInterval == .seconds(3) else { exit(2) }
                try notifier.ready(status: "starting\nup")
                try notifier.status("2 streams")
                try notifier.watchdog()
                try notifier.reloading()
                try notifier.stopping()
            }
        }
        #expect(messages.count == 5)
        #expect(messages.prefix(3) == ["READY=1\nSTATUS=starting up", "STATUS=2 streams", "WATCHDOG=1"])
        let reloading = messages.count > 3 ? messages[3].split(separator: "\n") : []
        #expect(reloading.first == "RELOADING=1")
        #expect(reloading.last.map { $0.hasPrefix("MONOTONIC_USEC=") && UInt64($0.dropFirst(15)) != nil } == true)
        #expect(messages.last == "STOPPING=1")
    }

    @Test func isANoOpWithoutNotifySocket() async {
        await #expect(processExitsWith: .success) {
            unsetenv("NOTIFY_SOCKET")
            unsetenv("WATCHDOG_USEC")
            let notifier = SystemdNotifier()
            guard !notifier.isEnabled, notifier.watchdogInterval == nil else { exit(2) }
            try notifier.ready(status: "nobody listens")
            try notifier.watchdog()
        }
    }

    @Test func watchdogForAnotherProcessIsNotOurs() async {
        await #expect(processExitsWith: .success) {
            setenv("WATCHDOG_USEC", "3000000", 1)
            setenv("WATCHDOG_PID", "\(getpid() + 1)", 1)
            guard SystemdNotifier().watchdogInterval == nil else { exit(2) }
        }
    }

    @Test func failsWhenTheNotifySocketIsGone() async {
        await #expect(processExitsWith: .success) {
            setenv("NOTIFY_SOCKET", "/nonexistent/notify.sock", 1)
            do {
                try SystemdNotifier().watchdog()
                exit(2)
            } catch let error as SystemdError {
                guard error == .systemCall(name: "sd_notify", errno: ENOENT) else { exit(3) }
            }
        }
    }

    @Test func statusIsKeptOnOneLine() {
        #expect(SystemdNotifier.oneLine("a\nb\r\nc") == "a b c")
    }
}
