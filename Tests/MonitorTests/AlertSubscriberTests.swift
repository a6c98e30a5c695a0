import Alarms
import AlarmsTestSupport
import Foundation
import Synchronization
import Systemd
import TestSupport
import Testing

@testable import Monitor

/// Lines a subscriber handed out, collected across threads.
final class LineCollector: Sendable {
    private let state = Mutex<(lines: [String], problems: [any Error])>(([], []))

    var lines: [String] { state.withLock { $0.lines } }
    var problems: [any Error] { state.withLock { $0.problems } }

    func add(_ line: String) {
        state.withLock { $0.lines.append(line) }
    }

    func add(problem: any Error) {
        state.withLock { $0.problems.append(problem) }
    }
}

@Suite(.timeLimit(.minutes(1))) struct AlertSubscriberTests {
    /// Writes `events` plus one log line and one malformed alert entry, then waits until all are stored.
    func journalWithEvents(_ events: [AlertEvent]) async throws -> TestJournald {
        let journald = try TestJournald()
        try await journald.write {
            try JournalWriter().send([("MESSAGE", "daemon started"), ("SYSLOG_IDENTIFIER", "ecg-monitor")])
            for event in events {
                try JournalWriter().send(event.journalFields)
            }
            try JournalWriter().send([
                ("MESSAGE", "half an alert"), ("SYSLOG_IDENTIFIER", "ecg-monitor"),
                ("MESSAGE_ID", AlertEvent.Kind.raised.messageID), ("ECG_STREAM", "bed-4"),
            ])
        }
        _ = try journald.entries(matching: "SYSLOG_IDENTIFIER", anyOf: ["ecg-monitor"], count: events.count + 2)
        return journald
    }

    @Test func printsOnlyAlertEntriesAndReportsMalformedOnes() async throws {
        let journald = try await journalWithEvents(sampleEvents)
        defer { journald.stop() }
        let collected = LineCollector()
        try AlertSubscriber(source: .namespace(journald.namespace)).run(problem: collected.add(problem:)) { line in
            collected.add(line)
        }
        #expect(collected.lines.count == sampleEvents.count)
        for (line, event) in zip(collected.lines, sampleEvents) {
            #expect(line.hasSuffix("Z " + event.message), "\(line)")
        }
        #expect(collected.problems.map { $0 as? AlarmsError } == [.malformedAlertEntry(field: "ECG_EVENT", value: nil)])
    }

    @Test func filtersByStreamAndWritesJSON() async throws {
        let journald = try await journalWithEvents(sampleEvents)
        defer { journald.stop() }
        let collected = LineCollector()
        let subscriber = AlertSubscriber(source: .namespace(journald.namespace), stream: "bed-4", json: true)
        try subscriber.run(problem: collected.add(problem:)) { line in collected.add(line) }
        #expect(collected.lines.count == 2)
        let streams = try collected.lines.map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["stream"] as? String
        }
        #expect(streams == ["bed-4", "bed-4"])
    }

    @Test func sinceSkipsOlderEvents() async throws {
        let journald = try await journalWithEvents(sampleEvents)
        defer { journald.stop() }
        let collected = LineCollector()
        let future = WallClock.nowMicroseconds() + 60_000_000
        try AlertSubscriber(source: .namespace(journald.namespace), sinceMicroseconds: future)
            .run(problem: collected.add(problem:)) { line in collected.add(line) }
        #expect(collected.lines.isEmpty)
    }

    @Test func followPrintsEventsWrittenLater() async throws {
        let journald = try await journalWithEvents([sampleEvents[0]])
        defer { journald.stop() }
        let collected = LineCollector()
        let started = Mutex(false)
        let outcome = OutcomeBox()
        let deadline = Date().addingTimeInterval(20)
        let subscriber = AlertSubscriber(source: .namespace(journald.namespace), follow: true)
        let follower = try WorkerThread(name: "follower") {
            do {
                try subscriber.run(
                    pollMicroseconds: 50_000,
                    shouldStop: {
                        started.withLock { $0 = true }
                        return collected.lines.count >= 2 || Date() > deadline
                    },
                    problem: collected.add(problem:)
                ) { line in collected.add(line) }
            } catch {
                outcome.set(error)
            }
        }
        // The follower starts past the tail; events count only once it is waiting.
        while !started.withLock({ $0 }) {
            await Task.yield()
        }
        try await journald.write {
            try JournalWriter().send(sampleEvents[1].journalFields)
            try JournalWriter().send(sampleEvents[2].journalFields)
        }
        await follower.join()
        if let error = outcome.get() { throw error }
        #expect(
            collected.lines.map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) } == [
                sampleEvents[1].message, sampleEvents[2].message,
            ]
        )
    }
}
