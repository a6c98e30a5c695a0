import Foundation
import TestSupport
import Testing

@testable import ecg_monitor

/// Standard input of every kind, and a socket path that another daemon still serves.
@Suite struct InputStartupTests {
    /// What `run --stdin` makes of a standard input that epoll cannot watch: read to its end or refused by name,
    /// never a crash.
    @Test(arguments: [
        ("< /dev/null", "the stream ended before its header line"),
        ("< /dev/zero", "line longer than the limit"),
        ("<&-", "standard input: it was closed when the daemon started"),
        ("< /", "standard input: it is a directory"),
    ])
    func unpollableStandardInputIsReadOrRefusedByName(redirection: String, message: String) async throws {
        let daemon = try DaemonProcess(
            ["-c", #"exec "$0" run --stdin --alerts json --model "$1" "# + redirection,
             try DaemonProcess.binaryPath(), DaemonTestSupport.defaultModelPath],
            executable: "/bin/sh"
        )
        #expect(try await daemon.waitForExit() == 1)
        #expect(daemon.errors.lines.contains { $0.text.contains(message) }, "\(daemon.errors.lines.map(\.text))")
    }

    @Test func recordingInARegularFileIsClassifiedToItsEnd() async throws {
        let directory = try DaemonTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try DaemonProcess(
            [
                "-c", #""$0" simulate --rhythm sinus --seconds 6 --speed max > "$2/s.bin" && "#
                    + #"exec "$0" run --stdin --alerts json --model "$1" < "$2/s.bin""#,
                try DaemonProcess.binaryPath(), DaemonTestSupport.defaultModelPath, directory,
            ],
            executable: "/bin/sh"
        )
        #expect(try await daemon.waitForExit() == 0)
        #expect(
            daemon.errors.lines.contains { $0.text.contains("stream ended") && $0.text.contains("ecg.windows=7") },
            "\(daemon.errors.lines.map(\.text))"
        )
    }

    @Test func secondDaemonOnALiveSocketIsRefusedAndAStaleOneReplaced() async throws {
        let directory = try DaemonTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ingest.sock"
        let arguments = ["run", "--socket", path, "--alerts", "json", "--model", DaemonTestSupport.defaultModelPath]
        let first = try DaemonProcess(arguments)
        try await first.errors.wait("readiness") { lines in lines.contains { $0.text.contains("ecg-monitor ready") } }
        let second = try DaemonProcess(arguments)
        #expect(try await second.waitForExit() == 1)
        #expect(
            second.errors.lines.contains { $0.text.contains("\(path) is in use: another process accepts connections") },
            "\(second.errors.lines.map(\.text))"
        )
        #expect(FileManager.default.fileExists(atPath: path), "the refused daemon must leave the socket alone")
        // The first daemon is killed outright, so its socket file stays behind, stale.
        first.send(SIGKILL)
        _ = try await first.waitForExit()
        let third = try DaemonProcess(arguments)
        try await third.errors.wait("readiness") { lines in lines.contains { $0.text.contains("ecg-monitor ready") } }
        third.send(SIGKILL)
        _ = try await third.waitForExit()
    }
}
