import ArgumentParser
import Foundation
import Glibc
import Stream
import TestSupport
import Testing

@testable import Monitor
@testable import ecg_monitor

/// `ecg-monitor run` end to end, as a child process: real recordings in over its socket or standard input,
/// alert events out to a journald of the test's own (read back through libsystemd) and as JSON lines, its
/// `sd_notify` messages on a socket the test owns, SIGHUP and SIGTERM from the test.
///
/// Serialized: each daemon has two inference threads on a 2-core machine, and one test overloads its daemon on
/// purpose; run side by side, they would starve each other into dropping windows.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DaemonRuntimeTests {
    static let challenge = "12-lead-ecg-classifier"
    static let georgia = "torch_ecg"
    static let ptbxl = "ECG-classification---CNN1D-on-PTB-XL"
    /// Configuration lines that leave heart-rate alarms and vitals out, for tests about the finding rules.
    static let noHeartRateEvents = "heart_rate:\n  alarms: false\n  vitals_seconds: 0\n"

    /// A daemon started in a fresh temporary directory, past `READY=1`.
    struct Running {
        let directory: String
        let socketPath: String
        let notify: NotifyRecorder
        let daemon: DaemonProcess

        static func start(
            _ arguments: [String] = [],
            alerts: String,
            model: String = DaemonTestSupport.defaultModelPath,
            journal: TestJournald? = nil,
            environment: [String: String] = [:]
        ) async throws -> Running {
            let directory = try DaemonTestSupport.temporaryDirectory()
            let stash = directory + "/journal"
            try FileManager.default.createDirectory(atPath: stash, withIntermediateDirectories: false)
            let notify = try NotifyRecorder()
            let socketPath = directory + "/ingest.sock"
            let daemon = try DaemonProcess(
                ["run", "--socket", socketPath, "--alerts", alerts, "--model", model] + arguments,
                environment: environment.merging(["NOTIFY_SOCKET": notify.socket.path]) { given, _ in given },
                journal: journal,
                stash: stash
            )
            try await notify.wait(for: "READY=1")
            return Running(directory: directory, socketPath: socketPath, notify: notify, daemon: daemon)
        }

        /// Sends SIGTERM and waits for the exit; returns the exit status.
        func stop() async throws -> Int32 {
            daemon.send(SIGTERM)
            let status = try await daemon.waitForExit()
            await notify.stop()
            try? FileManager.default.removeItem(atPath: directory)
            return status
        }

        /// The alert events written to standard output so far, as JSON objects.
        var events: [[String: Any]] {
            daemon.output.lines.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.text.utf8))) as? [String: Any]
            }
        }

    }

    /// Replays records to a daemon's socket with `ecg-monitor replay … --socket` in a process of its own (paced
    /// by its own clock, not by this busy test process) and returns its exit status.
    @discardableResult
    static func replay(_ records: [String], to socketPath: String, _ options: [String]) async throws -> Int32 {
        let paths = try records.map { try DaemonTestSupport.samplePath($0) }
        let replay = try DaemonProcess(["replay"] + paths + ["--socket", socketPath] + options)
        return try await replay.waitForExit(timeout: .seconds(120))
    }

    static func event(_ events: [[String: Any]], _ kind: String, stream: String, _ key: String, _ value: String)
        -> [String: Any]?
    {
        events.first {
            $0["event"] as? String == kind && $0["stream"] as? String == stream && $0[key] as? String == value
        }
    }

    // MARK: - Recordings and the journal

    /// A CPSC atrial-fibrillation record at 500 Hz, in real time: the AFIB alarm reaches the journal with every
    /// field, after the third window above threshold (stream time 3.5 s), and clears when the stream ends.
    @Test func atrialFibrillationRecordRaisesAFIBInTheJournal() async throws {
        let journal = try TestJournald()
        let running = try await Running.start(alerts: "both", journal: journal)
        let start = ContinuousClock.now
        #expect(
            try await Self.replay(
                ["\(Self.challenge)/A0003"],
                to: running.socketPath,
                ["--speed", "1", "--stream-id", "bed-af"]
            ) == 0
        )
        let entries = try journal.entries(matching: "ECG_CLASS", anyOf: ["AFIB"], count: 2)
        #expect(try await running.stop() == 0)
        let raised = try #require(entries.first)
        #expect(raised["MESSAGE_ID"] == "3bbf4294ef16468b9e7cfcb878630f9b")
        #expect(raised["PRIORITY"] == "3" && raised["SYSLOG_IDENTIFIER"] == "ecg-monitor")
        #expect(raised["ECG_EVENT"] == "raised" && raised["ECG_STREAM"] == "bed-af")
        #expect(raised["ECG_CLASS_DESCRIPTION"] == "atrial fibrillation" && raised["ECG_PRIORITY"] == "medium")
        // The threshold is the model's AFIB alarm operating point (ecg.alarm_thresholds), not its record-level one.
        #expect(raised["ECG_THRESHOLD"] == "0.960786" && raised["ECG_MODEL"] == "ecg-incepse-all")
        #expect(Double(raised["ECG_PROBABILITY"] ?? "") ?? 0 >= 0.960786)
        // A0003's windows pass that point from the one starting at 3.5 s; three evaluations later it is raised.
        let windowStart = try #require(raised["ECG_WINDOW_START"].flatMap(Double.init))
        let windowEnd = try #require(raised["ECG_WINDOW_END"].flatMap(Double.init))
        #expect(windowEnd >= 3.5 && windowEnd - windowStart == 2.5, "window \(windowStart)–\(windowEnd) s")
        #expect(raised["MESSAGE"]?.hasPrefix("bed-af: AFIB (atrial fibrillation) raised, medium priority") == true)
        #expect(raised["ECG_REASON"] == nil)
        let cleared = entries[1]
        #expect(cleared["ECG_EVENT"] == "cleared" && cleared["ECG_REASON"] == "stream-ended")
        #expect(cleared["MESSAGE_ID"] == "b06ab664023749c69266f82187bbe39a" && cleared["PRIORITY"] == "5")
        // The subscriber reads them back.
        let subscriber = try DaemonProcess(["alerts", "--namespace", journal.namespace, "--stream", "bed-af", "--json"])
        #expect(try await subscriber.waitForExit() == 0)
        let read = subscriber.output.lines.map(\.text).filter { $0.contains("\"class\":\"AFIB\"") }
        #expect(
            read.count == 2 && read[0].contains("\"event\":\"raised\"") && read[1].contains("\"event\":\"cleared\"")
        )
        // The same event on standard output, timed by the test as it arrived.
        let line = try #require(running.daemon.output.lines.first { $0.text.contains("\"class\":\"AFIB\"") })
        let wall = start.duration(to: line.arrival)
        print(
            "AFIB alarm delay from the start of the A0003 replay (500 Hz, real time): stream \(windowEnd) s, wall \(wall)"
        )
        // The window's end plus the 0.2 s the resampler holds back must have arrived; the rest is inference, which
        // other processes on a shared machine can slow down a lot (unloaded: 3.8 s in all).
        #expect(wall > .seconds(windowEnd + 0.2) && wall < .seconds(windowEnd + 30))
    }

    /// A Georgia normal-sinus record (sinus rhythm, 500 Hz) raises no alarm at all: nothing in the journal for
    /// its stream once a marker sent after the daemon exited has arrived, and on standard output only vitals
    /// (vitals stay out of the journal by default), each with the record's rate once beats were counted.
    @Test func normalSinusRecordRaisesNoAlarm() async throws {
        let journal = try TestJournald()
        let running = try await Running.start(alerts: "both", journal: journal)
        #expect(
            try await Self.replay(
                ["\(Self.georgia)/E07506"],
                to: running.socketPath,
                ["--speed", "5", "--stream-id", "bed-nsr"]
            ) == 0
        )
        #expect(try await running.stop() == 0)
        let vitals = running.events.filter { $0["event"] as? String == "vitals" }
        #expect(vitals.count == running.events.count, "\(running.events)")
        #expect(vitals.count >= 2)
        for line in vitals.dropFirst() {
            let rate = try #require(line["heart_rate"] as? Double, "\(line)")
            #expect((55...80).contains(rate), "\(line)")
        }
        #expect(try await journal.settledEntries(matching: "ECG_STREAM", anyOf: ["bed-nsr"]).isEmpty)
        #expect(
            running.daemon.errors.lines.contains {
                $0.text.contains("stream ended") && $0.text.contains("ecg.windows=15")
            }
        )
    }

    /// A PTB-XL record with lead V3 held flat (an electrode off): the lead-off technical alarm names V3, no
    /// finding is raised from the windows that were not classified, and the alarm clears when the stream ends.
    @Test func flatLinedLeadRaisesTheTechnicalAlarm() async throws {
        let journal = try TestJournald()
        let running = try await Running.start(alerts: "journal", journal: journal)
        let record = try WFDBRecord.read(path: try DaemonTestSupport.samplePath("\(Self.ptbxl)/00057_lr"))
        let bytes = try TestStreams.record(record, streamID: "bed-flat", flatLeads: [.v3], frameSamples: 10)
        let reply = try await TestStreams.sendPaced(bytes, to: running.socketPath, signalSeconds: 10, speed: 5)
        #expect(reply.isEmpty)
        #expect(try await running.stop() == 0)
        let entries = try await journal.settledEntries(matching: "ECG_STREAM", anyOf: ["bed-flat"])
        #expect(entries.map { $0["ECG_EVENT"] ?? "" } == ["technical-raised", "technical-cleared"], "\(entries)")
        let raised = try #require(entries.first)
        #expect(raised["ECG_CONDITION"] == "lead-off" && raised["ECG_LEAD"] == "V3")
        #expect(raised["MESSAGE_ID"] == "f787b00bc9694114b2d519016cd7ed99" && raised["PRIORITY"] == "3")
        // Raised on the second window with the lead off: 0.5–3.0 s.
        #expect(raised["ECG_PRIORITY"] == "medium" && Double(raised["ECG_WINDOW_END"] ?? "") ?? 0 >= 3.0)
        #expect(entries.last?["ECG_REASON"] == "stream-ended")
    }

    /// journald killed just after start-up and started again while an AF record streams: every alert event
    /// reaches the journal exactly once and in order (as on standard output), each went to standard error
    /// meanwhile, and STATUS= counted the queue.
    @Test func aJournalOutageLosesNoAlertEvent() async throws {
        let journal = try TestJournald()
        let running = try await Running.start(
            alerts: "both",
            journal: journal,
            environment: ["WATCHDOG_USEC": "1000000"]
        )
        journal.interrupt()
        let socketPath = running.socketPath
        async let replayed = Self.replay(
            ["\(Self.challenge)/A0003"],
            to: socketPath,
            ["--speed", "3", "--stream-id", "bed-outage"]
        )
        try await running.daemon.errors.wait("the outage report") {
            $0.contains { $0.text.contains("journal unavailable") }
        }
        try await running.daemon.errors.wait("an event on standard error") {
            $0.contains { $0.text.contains("alert event not yet in the journal") }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while !running.notify.messages.contains(where: { $0.contains("alert events waiting for the journal") }),
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        try journal.restart()
        #expect(try await replayed == 0)
        #expect(try await running.stop() == 0)
        func key(_ fields: [String: Any], prefix: String) -> String {
            ["EVENT", "CLASS", "CONDITION", "WINDOW_END"].map { name in
                fields[prefix + (prefix.isEmpty ? name.lowercased() : name)].map { "\($0)" } ?? "-"
            }.joined(separator: "/")
        }
        let written = running.events.filter { $0["event"] as? String != "vitals" }.map { key($0, prefix: "") }
        let stored = try await journal.settledEntries(matching: "ECG_STREAM", anyOf: ["bed-outage"])
            .filter { $0["MESSAGE_ID"] != nil && $0["ECG_EVENT"] != nil }.map { key($0, prefix: "ECG_") }
        #expect(!written.isEmpty)
        #expect(stored == written)
        #expect(
            running.notify.messages.contains { $0.contains("alert events waiting for the journal") },
            "\(running.notify.messages)"
        )
        #expect(running.daemon.errors.lines.contains { $0.text.contains("journal reachable again") })
    }

    /// `simulate` at 80 bpm whose beats stop at 8 s, sent at 4× real time: the daemon raises asystole (high,
    /// heart rate 0) about 4 s of stream time after the last beat, its vitals carry the rate before, and STATUS=
    /// (every 0.5 s with a 1 s watchdog) shows it; the stream's end clears the alarm.
    @Test func simulatedAsystoleRaisesTheHeartRateAlarm() async throws {
        let running = try await Running.start(alerts: "json", environment: ["WATCHDOG_USEC": "1000000"])
        let simulate = try DaemonProcess(
            [
                "simulate", "--hr", "80", "--hr-step", "8:0", "--seconds", "16", "--stream-id", "bed-asystole",
                "--speed", "4", "--socket", running.socketPath,
            ]
        )
        #expect(try await simulate.waitForExit(timeout: .seconds(60)) == 0)
        #expect(try await running.stop() == 0)
        let events = running.events
        let raised = try #require(
            Self.event(events, "heart-rate-raised", stream: "bed-asystole", "condition", "asystole")
        )
        #expect(raised["priority"] as? String == "high" && raised["heart_rate"] as? Double == 0)
        let raisedAt = try #require(raised["window_end"] as? Double)
        #expect((7.25 + 4)...(8 + 4.5) ~= raisedAt, "\(raised)")
        #expect(Self.event(events, "heart-rate-cleared", stream: "bed-asystole", "reason", "stream-ended") != nil)
        let rates = events.filter { $0["event"] as? String == "vitals" }.compactMap { $0["heart_rate"] as? Double }
        #expect(rates.contains { abs($0 - 80) < 3 }, "\(rates)")
        #expect(running.notify.messages.contains { $0.contains(", HR 8") }, "\(running.notify.messages)")
    }

    /// A streaming model (the engine's random-weight fixture, classes C0–C4) served by the daemon: every window
    /// of a replayed record is classified through the streaming executor and the configured class raises, then
    /// clears when the stream ends.
    @Test func aStreamingModelIsServedHopByHop() async throws {
        let directory = try DaemonTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configPath = directory + "/ecg-monitor.yaml"
        try "alarms:\n  classes:\n    C1: medium\n  thresholds:\n    C1: 0.01\n\(Self.noHeartRateEvents)".write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelTests/Fixtures/streaming/streaming.onnx").path
        let running = try await Running.start(["--config", configPath], alerts: "json", model: model)
        #expect(try await Self.replay(["\(Self.ptbxl)/00008_lr"], to: running.socketPath, ["--speed", "4"]) == 0)
        #expect(try await running.stop() == 0)
        let events = running.events.map { "\($0["class"] ?? "")/\($0["event"] ?? "")/\($0["reason"] ?? "-")" }
        #expect(events == ["C1/raised/-", "C1/cleared/stream-ended"], "\(events)")
        let logs = running.daemon.errors.lines.map(\.text)
        #expect(!logs.contains { $0.contains("ended unexpectedly") }, "\(logs)")
        // 10 s at 100 Hz: windows ending at 2.5 s, 3 s, … 10 s, none lost
        let stopped = try #require(logs.last { $0.contains("ecg-monitor stopped") })
        #expect(
            stopped.contains("ecg.windows_classified=16") && stopped.contains("ecg.windows_dropped=0"), "\(stopped)")
    }

    // MARK: - Signals and systemd

    /// SIGHUP while a stream runs: `RELOADING=1` … `READY=1`, the class the new file no longer lists clears
    /// (`class-disabled`), the newly listed one raises from later windows of the same stream, which ends
    /// normally. A second SIGHUP with a broken file keeps the rules in force.
    @Test func sighupReloadsTheRulesWithoutDroppingTheStream() async throws {
        let directory = try DaemonTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configPath = directory + "/ecg-monitor.yaml"
        try "alarms:\n  classes:\n    AFIB: medium\n\(Self.noHeartRateEvents)".write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let running = try await Running.start(["--config", configPath], alerts: "json")
        let socketPath = running.socketPath
        async let replayed = Self.replay(
            ["\(Self.challenge)/A0003"],
            to: socketPath,
            ["--speed", "2", "--stream-id", "bed-reload"]
        )
        try await running.daemon.output.wait("AFIB raised") { $0.contains { $0.text.contains("\"event\":\"raised\"") } }
        try "alarms:\n  classes:\n    AFLT: medium\n\(Self.noHeartRateEvents)".write(
            toFile: configPath, atomically: true, encoding: .utf8)
        running.daemon.send(SIGHUP)
        try await running.daemon.output.wait("AFLT raised") { lines in
            lines.contains { $0.text.contains("\"class\":\"AFLT\"") && $0.text.contains("\"event\":\"raised\"") }
        }
        try "alarms:\n  clases: {}\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        running.daemon.send(SIGHUP)
        try await running.daemon.errors.wait("the failed reload") { $0.contains { $0.text.contains("reload failed") } }
        #expect(try await replayed == 0)
        #expect(try await running.stop() == 0)
        let events = running.events.map { "\($0["class"] ?? "")/\($0["event"] ?? "")/\($0["reason"] ?? "-")" }
        #expect(
            events == [
                "AFIB/raised/-", "AFIB/cleared/class-disabled", "AFLT/raised/-", "AFLT/cleared/stream-ended",
            ]
        )
        let reloads = running.notify.messages.filter { $0.hasPrefix("RELOADING=1") || $0.hasPrefix("READY=1") }
        #expect(
            reloads.count == 5
                && reloads.dropFirst().enumerated().allSatisfy { index, message in
                    message.hasPrefix(index % 2 == 0 ? "RELOADING=1" : "READY=1")
                },
            "\(reloads)"
        )
        let logs = running.daemon.errors.lines.map(\.text)
        #expect(logs.contains { $0.contains("unknown configuration key alarms.clases") })
        #expect(!logs.contains { $0.contains("ended unexpectedly") })
    }

    /// SIGTERM while eight streams run faster than the workers keep up: every stream's last window formed by
    /// ingest is classified before its end reaches the alarm engine ("stream ended unexpectedly" carries that
    /// window), the events are written before the process exits 0, and systemd hears `READY=1`, `STATUS=`,
    /// `WATCHDOG=1` while running and `STOPPING=1` last.
    @Test func sigtermDrainsTheWindowsInFlightBeforeExiting() async throws {
        let running = try await Running.start(alerts: "json", environment: ["WATCHDOG_USEC": "2000000"])
        let replay = Task { [socketPath = running.socketPath] in
            // The daemon answers the streams it closes with `service_stopping`: the replay ends with an error.
            _ = try? await Self.replay(
                ["\(Self.challenge)/A0005"],
                to: socketPath,
                ["--speed", "4", "--parallel", "8"]
            )
        }
        try await running.daemon.errors.wait("eight streams") { lines in
            lines.filter { $0.text.contains("stream opened") }.count == 8
        }
        // Every stream's first window has an event (its vitals) before SIGTERM, however slowly a busy machine
        // lets the replay send: the drain then has windows to show.
        try await running.daemon.output.wait("an event of every stream") { lines in
            Set(
                lines.compactMap { line in
                    line.text.range(of: #""stream":"A0005-[0-9]+""#, options: .regularExpression).map { line.text[$0] }
                }
            ).count == 8
        }
        try await running.notify.wait(for: "WATCHDOG=1")
        #expect(try await running.stop() == 0)
        await replay.value
        let messages = running.notify.messages
        #expect(messages.first?.hasPrefix("READY=1\nSTATUS=") == true, "\(messages)")
        #expect(messages.last == "STOPPING=1", "\(messages)")
        #expect(messages.contains { $0.hasPrefix("STATUS=8 streams, ") }, "\(messages)")
        let logs = running.daemon.errors.lines.map(\.text)
        for index in 1...8 {
            let streamID = "A0005-\(index)"
            let log = try #require(
                logs.first { $0.contains("ecg.stream=\(streamID) ") && $0.contains("ended unexpectedly") }
            )
            let windows = try #require(
                log.split(separator: " ").first { $0.hasPrefix("ecg.windows=") }.flatMap { Int($0.dropFirst(12)) }
            )
            let ended = try #require(
                Self.event(
                    running.events,
                    "technical-raised",
                    stream: streamID,
                    "condition",
                    "stream-ended-unexpectedly"
                )
            )
            #expect(windows > 0)
            #expect(
                ended["window_end"] as? Double == 0.5 * Double(windows - 1) + 2.5,
                "\(streamID): \(windows) windows"
            )
        }
        #expect(logs.contains { $0.contains("inference workers drained and stopped") })
    }

    /// The `make run` path: a recording on standard input, alerts as JSON lines; the daemon exits 0 once the
    /// stream ends and its last events are written.
    @Test func standardInputStreamEndsTheDaemonCleanly() async throws {
        let record = try DaemonTestSupport.samplePath("\(Self.challenge)/E00005")
        let daemon = try DaemonProcess(
            [
                "-c", #""$0" replay "$1" --speed 2 --stream-id stdin-af | "$0" run --stdin --alerts json --model "$2""#,
                try DaemonProcess.binaryPath(), record, DaemonTestSupport.defaultModelPath,
            ],
            executable: "/bin/sh"
        )
        #expect(try await daemon.waitForExit() == 0)
        let events = daemon.output.lines.map(\.text)
        #expect(
            events.contains { $0.contains("\"event\":\"raised\",\"stream\":\"stdin-af\",\"class\":\"AFIB\"") },
            "\(events)"
        )
        #expect(events.contains { $0.contains("\"class\":\"AFIB\"") && $0.contains("\"reason\":\"stream-ended\"") })
    }

    @Test(arguments: [
        (["--model", "MODEL_DIR/tiny.onnx"], [:], "ecg.sample_rate_hz"),
        ([], ["ECG_MONITOR_ALARMS_CONFIRM_COUNT": "0"], "alarms.confirm_count"),
        ([], ["ECG_MONITOR_WINDOWS_SECONDS": "5"], "windows.seconds"),
        (["--socket", "/nonexistent-dir/x.sock"], [:], "cannot bind /nonexistent-dir/x.sock"),
    ])
    func startUpFailsNamingTheProblem(arguments: [String], environment: [String: String], message: String) async throws
    {
        let fixtures = DaemonTestSupport.modelFixtures.path
        let daemon = try DaemonProcess(
            ["run", "--stdin", "--alerts", "json", "--model", DaemonTestSupport.defaultModelPath]
                + arguments.map { $0.replacingOccurrences(of: "MODEL_DIR", with: fixtures) },
            environment: environment,
            standardInput: true
        )
        #expect(try await daemon.waitForExit() == 1)
        #expect(daemon.errors.lines.contains { $0.text.contains(message) }, "\(daemon.errors.lines.map(\.text))")
    }
}
