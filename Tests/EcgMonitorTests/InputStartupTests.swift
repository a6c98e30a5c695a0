import Foundation
import Glibc
import TestSupport
import Testing

@testable import ecg_monitor

/// Standard input of every kind, a socket path that another daemon still serves, and inputs that can wait
/// against live ones when the inference side falls behind.
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
            [
                "-c", #"exec "$0" run --stdin --alerts json --model "$1" "# + redirection,
                try DaemonProcess.binaryPath(), DaemonTestSupport.defaultModelPath,
            ],
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
                "-c",
                #""$0" simulate --rhythm sinus --seconds 6 --speed max > "$2/s.bin" && "#
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
        #expect(daemon.errors.lines.contains { $0.text.contains("ecg.windows_classified=7") })
    }

    /// A minute of recording replayed as fast as the pipe takes it, through one inference worker: the daemon reads
    /// standard input no faster than it classifies, so every window formed is classified and none is dropped.
    @Test func maxSpeedReplayOnStandardInputLosesNoWindow() async throws {
        let record = try DaemonTestSupport.samplePath("12-lead-ecg-classifier/A0003")
        let daemon = try DaemonProcess(
            [
                "-c",
                #""$0" replay "$1" --loop --seconds 60 --speed max | "#
                    + #""$0" run --stdin --alerts json --model "$2""#,
                try DaemonProcess.binaryPath(), record, DaemonTestSupport.defaultModelPath,
            ],
            executable: "/bin/sh",
            environment: ["ECG_MONITOR_INFERENCE_WORKERS": "1", "ECG_MONITOR_INPUT_LIVE_LEAD_SECONDS": "60"]
        )
        #expect(try await daemon.waitForExit() == 0)
        let lines = daemon.errors.lines.map(\.text)
        #expect(lines.contains { $0.contains("stream ended") && $0.contains("ecg.windows=115") }, "\(lines)")
        #expect(
            lines.contains { $0.contains("ecg.windows_classified=115") && $0.contains("ecg.windows_dropped=0") },
            "\(lines)"
        )
        let events = daemon.output.lines.map(\.text)
        #expect(events.contains { $0.contains("\"event\":\"raised\"") && $0.contains("\"class\":\"AFIB\"") })
        #expect(!events.contains { $0.contains("monitoring-degraded") })
    }

    /// Live streams sent far faster than real time to one worker, with a lead that lets them (a producer that
    /// buffers a minute): each keeps its newest window, and the loss is raised as "monitoring degraded" and
    /// counted, not silent.
    @Test func liveStreamsThatLoseWindowsRaiseMonitoringDegraded() async throws {
        let directory = try DaemonTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ingest.sock"
        let daemon = try DaemonProcess(
            ["run", "--socket", socket, "--alerts", "json", "--model", DaemonTestSupport.defaultModelPath],
            environment: ["ECG_MONITOR_INFERENCE_WORKERS": "1", "ECG_MONITOR_INPUT_LIVE_LEAD_SECONDS": "60"]
        )
        try await daemon.errors.wait("readiness") { lines in lines.contains { $0.text.contains("ecg-monitor ready") } }
        let record = try DaemonTestSupport.samplePath("12-lead-ecg-classifier/A0003")
        let replay = try DaemonProcess(
            [
                "replay", record, "--live", "--speed", "max", "--loop", "--seconds", "30", "--parallel", "4",
                "--socket", socket,
            ]
        )
        #expect(try await replay.waitForExit() == 0, "\(replay.errors.lines.map(\.text))")
        try await daemon.output.wait("the degraded alarm") { lines in
            lines.contains { $0.text.contains("\"condition\":\"monitoring-degraded\"") }
        }
        daemon.send(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let summary = try #require(daemon.errors.lines.last { $0.text.contains("ecg-monitor stopped") }?.text)
        #expect(!summary.contains("ecg.windows_dropped=0"), "\(summary)")
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

    /// Under a 64-descriptor limit, far below what 64 streams need: the daemon caps its connections below the
    /// limit and says so at start-up; with the cap taken by idle connections a further producer is answered
    /// (refused, naming the limit) instead of waiting unanswered, the accept loop never runs out of descriptors
    /// (no spinning: under 0.5 CPU-seconds in 3 s), and once connections close a producer is served again.
    @Test func theConnectionLimitStaysBelowTheOpenFilesLimit() async throws {
        let directory = try DaemonTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ingest.sock"
        let daemon = try DaemonProcess(
            [
                "--nofile=64:64", "--", try DaemonProcess.binaryPath(), "run", "--socket", path, "--alerts", "json",
                "--model", DaemonTestSupport.defaultModelPath,
            ],
            executable: "/usr/bin/prlimit"
        )
        try await daemon.errors.wait("readiness") { $0.contains { $0.text.contains("ecg-monitor ready") } }
        let warning = try #require(daemon.errors.lines.first { $0.text.contains("open files limit caps") }?.text)
        let allowed = try #require(
            warning.split(separator: " ").first { $0.hasPrefix("ecg.connections_allowed=") }
                .flatMap { Int($0.dropFirst("ecg.connections_allowed=".count)) }
        )
        #expect((1..<64).contains(allowed), "\(warning)")
        var idle: [Int32] = []
        defer { for descriptor in idle { close(descriptor) } }
        for _ in 0..<(allowed + 8) { idle.append(try UnixSocketConnection.open(path)) }
        let before = try Self.cpuSeconds(of: daemon.processIdentifier)
        let (refusal, _) = try await BlockingStreamClient.exchange(socketPath: path, [], timeoutSeconds: 10)
        #expect(refusal.contains("\"error\":\"refused\"") && refusal.contains("is reached"), "\(refusal)")
        try await Task.sleep(for: .seconds(3))
        let spent = try Self.cpuSeconds(of: daemon.processIdentifier) - before
        #expect(spent < 0.5, "\(spent) CPU-seconds in 3 s at the connection cap")
        #expect(!daemon.errors.lines.contains { $0.text.contains("cannot accept connections") })
        for descriptor in idle { close(descriptor) }
        idle.removeAll()
        try await Task.sleep(for: .milliseconds(200))
        let (reply, _) = try await BlockingStreamClient.exchange(socketPath: path, Array("not a header\n".utf8))
        #expect(reply.contains("\"error\":\"bad_header\""), "\(reply)")
        daemon.send(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
    }

    /// User plus system CPU time of process `pid`, seconds (from /proc/PID/stat).
    static func cpuSeconds(of pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
        let ticks = Double(fields[11])! + Double(fields[12])!
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
