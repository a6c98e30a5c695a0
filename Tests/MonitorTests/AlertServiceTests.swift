import Alarms
import AlarmsTestSupport
import Foundation
import Glibc
import InMemoryLogging
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Stream
import Systemd
import TestSupport
import Testing

@testable import Monitor

/// A pipe whose write end feeds an ``AlertOutput`` and whose read end the test reads after closing it.
final class OutputPipe {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { throw HarnessError(description: "pipe failed") }
        readEnd = descriptors[0]
        writeEnd = descriptors[1]
    }

    /// Closes the write end and returns the lines written, as JSON objects.
    func closeAndReadObjects() throws -> [[String: Any]] {
        close(writeEnd)
        defer { close(readEnd) }
        let data = FileHandle(fileDescriptor: readEnd, closeOnDealloc: false).readDataToEndOfFile()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw HarnessError(description: "not a JSON object: \(line)")
            }
            return object
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct AlertServiceTests {
    @Test func appliesInputsInOrderAndWritesEveryEventBeforeReturning() async throws {
        let pipe = try OutputPipe()
        let logs = InMemoryLogHandler()
        let counters = AlertCounters()
        let (inputs, continuation) = AsyncStream.makeStream(of: AlarmInput.self)
        let service = AlertService(
            rules: try makeRules(),
            inputs: (inputs, continuation),
            output: AlertOutput(destination: .json, lines: FileDescriptorOutput(descriptor: pipe.writeEnd)),
            counters: counters,
            logger: Logger(label: "test") { _ in logs }
        )
        for index in 0..<3 {
            let start = Double(index) * 0.5
            continuation.yield(
                .classified(stream: "bed-1", startSeconds: start, endSeconds: start + 2.5, probabilities: [0, 0.9, 0])
            )
        }
        continuation.yield(.classified(stream: "bed-1", startSeconds: 1.5, endSeconds: 4, probabilities: [0.9]))
        let flat = TechnicalFlags(flatLeads: LeadSet(leadIndex: 0))
        continuation.yield(.faulty(stream: "bed-2", startSeconds: 0, endSeconds: 2.5, flags: flat))
        continuation.yield(.faulty(stream: "bed-2", startSeconds: 0.5, endSeconds: 3, flags: flat))
        continuation.yield(.reload(try makeRules(classes: ["3AVB": .high])))
        continuation.yield(.ended(stream: "bed-2", .unexpected))
        continuation.finish()
        await service.run()

        let objects = try pipe.closeAndReadObjects()
        #expect(
            objects.map { $0["event"] as? String } == [
                "raised", "technical-raised", "cleared", "technical-cleared", "technical-raised",
            ]
        )
        #expect(objects.map { $0["stream"] as? String } == ["bed-1", "bed-2", "bed-1", "bed-2", "bed-2"])
        #expect(objects[2]["reason"] as? String == "class-disabled")
        #expect(objects[4]["condition"] as? String == "stream-ended-unexpectedly")
        #expect(counters.eventsEmitted == 5)
        #expect(counters.inputsRejected == 1)
        #expect(counters.activeAlarms == 1)
        #expect(logs.entries.contains { $0.level == .warning && $0.message == "alarm input refused" })
    }

    /// The JSON-line reader gone (a closed pipe): the service goes on, says so once on standard error, and
    /// counts every line it could not write.
    @Test func aGoneReaderIsReportedOnceAndTheServiceGoesOn() async throws {
        let pipe = try OutputPipe()
        close(pipe.readEnd)
        let errors = try OutputPipe()
        let counters = AlertCounters()
        let (inputs, continuation) = AsyncStream.makeStream(of: AlarmInput.self)
        let service = AlertService(
            rules: try makeRules(),
            inputs: (inputs, continuation),
            output: AlertOutput(
                destination: .json,
                lines: FileDescriptorOutput(descriptor: pipe.writeEnd),
                errors: FileDescriptorOutput(descriptor: errors.writeEnd)
            ),
            counters: counters,
            logger: DaemonTestSupport.logger
        )
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        // Stall raised, stall cleared by the end, stream lost: three events, none written.
        continuation.yield(.ended(stream: "bed-3", .stalled))
        continuation.finish()
        await service.run()
        close(pipe.writeEnd)
        close(errors.writeEnd)
        let report = String(
            decoding: FileHandle(fileDescriptor: errors.readEnd, closeOnDealloc: true).readDataToEndOfFile(),
            as: UTF8.self
        )
        #expect(
            report.split(separator: "\n").count == 1 && report.contains("ALERT EVENTS ARE NOT DELIVERED"), "\(report)")
        #expect(counters.delivery.linesUndelivered == 3)
    }

    @Test func checksThatTheJournalIsThereWhenAlertsGoToIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-none-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await TestJournald.withJournalSockets(in: directory) {
            #expect(throws: DaemonError.journalUnavailable(socketPath: "/run/systemd/journal/socket")) {
                try AlertOutput(destination: .both).checkDestinations()
            }
            try AlertOutput(destination: .json).checkDestinations()
        }
    }

    /// Inputs sent before graceful shutdown reaches the service are all applied and written before it returns.
    @Test func gracefulShutdownWritesEverythingAlreadySent() async throws {
        let pipe = try OutputPipe()
        let counters = AlertCounters()
        let (inputs, continuation) = AsyncStream.makeStream(of: AlarmInput.self)
        let service = AlertService(
            rules: try makeRules(),
            inputs: (inputs, continuation),
            output: AlertOutput(destination: .json, lines: FileDescriptorOutput(descriptor: pipe.writeEnd)),
            counters: counters,
            logger: DaemonTestSupport.logger
        )
        await testGracefulShutdown { trigger in
            async let running: Void = service.run()
            for index in 0..<3 {
                let start = Double(index) * 0.5
                continuation.yield(
                    .classified(
                        stream: "bed-1",
                        startSeconds: start,
                        endSeconds: start + 2.5,
                        probabilities: [0, 0.9, 0]
                    )
                )
            }
            continuation.yield(.ended(stream: "bed-1", .expected))
            trigger.triggerGracefulShutdown()
            await running
        }
        let events = try pipe.closeAndReadObjects().map { "\($0["event"] ?? "")/\($0["reason"] ?? "-")" }
        #expect(events == ["raised/-", "cleared/stream-ended"])
        #expect(counters.eventsEmitted == 2)
    }
}
