import Alarms
import Foundation
import Glibc
import Producers
import ServiceLifecycleTestKit
import Stream
import Synchronization
import TestSupport
import Testing

@testable import Monitor

@Suite(.timeLimit(.minutes(2))) struct IngestServiceTests {
    /// The `error` code of a reply line.
    private func errorCode(_ reply: String) throws -> String? {
        guard let line = reply.split(separator: "\n").first else { return nil }
        let value = try JSONValue.parse(Array(line.utf8))
        guard case .string(let code)? = value.objectMembers?.first(where: { $0.key == "error" })?.value else {
            return nil
        }
        return code
    }

    @Test func manyStreamsAtOnceOverARealSocketArriveWhole() async throws {
        let harness = try await IngestHarness.start(shards: 2) { $0.maxStreams = 48 }
        let streamCount = 40
        let streams = try (0..<streamCount).map { index in
            ("bed-\(index)", try TestStreams.simulated(streamID: "bed-\(index)", seconds: 6, seed: UInt64(index + 1)))
        }
        try await testGracefulShutdown { trigger in
            async let running: Void = harness.service.run()
            let replies = try await withThrowingTaskGroup(of: String.self) { group in
                for (_, bytes) in streams { group.addTask { try await harness.send(bytes) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.isEmpty })
            await harness.recorder.wait { events in events.filter(\.isEnded).count == streamCount }
            let expectedWindows = try await TestStreams.offlineWindows(
                streams[0].1,
                configuration: try DaemonTestSupport.pipelineConfiguration()
            )
            await harness.waitForWindows(streamCount * expectedWindows.count - harness.queue.statistics.skipped)
            trigger.triggerGracefulShutdown()
            try await running
        }
        await harness.finish()
        let delivered = harness.windowsByStream
        #expect(delivered.count == streamCount)
        #expect(Set(harness.queue.openStreamsPerShard) == [0])
        for (streamID, bytes) in streams {
            let offline = try await TestStreams.offlineWindows(
                bytes,
                configuration: try DaemonTestSupport.pipelineConfiguration()
            )
            let windows = delivered[streamID] ?? []
            let skipped = windows.reduce(0) { $0 + $1.tag.skippedBefore }
            #expect(windows.count + skipped == offline.count, "\(streamID)")
            #expect(windows.map(\.tag.info.startSample) == windows.map(\.tag.info.startSample).sorted())
            for window in windows {
                #expect(
                    window.samples == offline[window.tag.info.startSample],
                    "\(streamID) at \(window.tag.info.startSample)"
                )
            }
        }
        let shards = Set(
            harness.recorder.events.filter(\.isOpened).compactMap { $0.metadata["ecg.shard"].flatMap { Int($0) } }
        )
        #expect(shards == [0, 1])
    }

    @Test func badStreamsGetOneJSONErrorLineAndOtherStreamsNeverNotice() async throws {
        let harness = try await IngestHarness.start(shards: 1)
        let leads = #"["I","II","III","aVR","aVL","aVF","V1","V2","V3","V4","V5","V6"]"#
        var wrongSize = Array(#"{"stream":"wrong-size","rate_hz":500,"leads":\#(leads),"format":"f32le"}"#.utf8) + [10]
        SampleFrame.appendFloat32Frame(
            [Float](repeating: 0, count: 11),
            leadCount: 11,
            firstSampleIndex: 0,
            to: &wrongSize
        )
        let truncated = Array(try TestStreams.simulated(streamID: "truncated", seconds: 1).dropLast(5))
        let bad: [(String, [UInt8])] = [
            ("bad_header", Array("{\"stream\":\"x\"}\n".utf8)),
            (
                "unknown_lead",
                Array(#"{"stream":"u","rate_hz":500,"leads":["I","II","X1"],"format":"f32le"}"#.utf8) + [10]
            ),
            (
                "missing_lead",
                Array(#"{"stream":"m","rate_hz":500,"leads":["I","II","V1"],"format":"f32le"}"#.utf8) + [10]
            ),
            ("wrong_frame_size", wrongSize),
            (
                "bad_csv_line",
                Array(#"{"stream":"c","rate_hz":250,"leads":\#(leads),"format":"csv"}"#.utf8)
                    + Array("\n1,2,x,4,5,6,7,8,9,10,11,12\n".utf8)
            ),
            ("line_too_long", [UInt8](repeating: UInt8(ascii: "{"), count: 5000)),
            ("truncated_stream", truncated),
            ("bad_header", Array(#"{"stream":"v","rate_hz":99,"leads":["I"],"format":"f32le"}"#.utf8) + [10]),
        ]
        let good = try (0..<3).map { try TestStreams.simulated(streamID: "good-\($0)", seconds: 4, seed: UInt64($0)) }
        try await testGracefulShutdown { trigger in
            async let running: Void = harness.service.run()
            let results = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for (expected, bytes) in bad { group.addTask { (expected, try await harness.send(bytes)) } }
                for bytes in good { group.addTask { ("", try await harness.send(bytes)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (expected, reply) in results {
                if expected.isEmpty {
                    #expect(reply.isEmpty)
                } else {
                    #expect(try errorCode(reply) == expected, "reply \(reply)")
                    #expect(reply.filter { $0 == "\n" }.count == 1)
                }
            }
            await harness.recorder.wait { $0.filter(\.isEnded).count == 3 }
            trigger.triggerGracefulShutdown()
            try await running
        }
        await harness.finish()
        let events = harness.recorder.events
        // A bad header, an unknown or missing lead, an overlong line: refused before a stream opens; a bad CSV
        // line, a wrong frame, a truncation: the opened stream ends unexpectedly.
        #expect(events.filter(\.isRefused).count == 5)
        #expect(events.contains { $0.isEndedUnexpectedly && $0.streamID == "c" })
        #expect(events.contains { $0.isEndedUnexpectedly && $0.streamID == "truncated" })
        #expect(events.contains { $0.isEndedUnexpectedly && $0.streamID == "wrong-size" })
        let offline = try await TestStreams.offlineWindows(
            good[0],
            configuration: try DaemonTestSupport.pipelineConfiguration()
        )
        for index in 0..<3 {
            let windows = harness.windowsByStream["good-\(index)"] ?? []
            #expect(windows.count + windows.reduce(0) { $0 + $1.tag.skippedBefore } == offline.count)
        }
    }

    @Test func silentStreamIsStalledThenClosedWithAnErrorLine() async throws {
        let harness = try await IngestHarness.start(shards: 1) { $0.idleTimeoutSeconds = 5 }
        let bytes = Array(try TestStreams.simulated(streamID: "quiet", seconds: 0.5))
        try await testGracefulShutdown { trigger in
            async let running: Void = harness.service.run()
            // Written from a thread of its own: the idle timer runs on NIO's threads and must not race a
            // cooperative pool that the suite's other tests keep busy.
            let (reply, error) = try await BlockingStreamClient.exchange(socketPath: harness.socketPath, bytes)
            #expect(error == nil)
            #expect(try errorCode(reply) == "idle_timeout")
            await harness.recorder.wait(for: "quiet") { $0.isEndedUnexpectedly }
            trigger.triggerGracefulShutdown()
            try await running
        }
        await harness.waitForEndings(1)
        #expect(harness.endings.map(\.ending) == [.stalled])
        await harness.finish()
        let events = harness.recorder.events.filter { $0.streamID == "quiet" }
        try #require(events.count == 2)
        #expect(events[0].isOpened)
        guard case .endedUnexpectedly(_, let reason, _) = events[1] else {
            Issue.record("\(events[1])")
            return
        }
        #expect(reason == "no data for 5.0 s")
    }

    @Test func streamsOverTheLimitAndDuplicateIdsAreRefused() async throws {
        let harness = try await IngestHarness.start(shards: 1) { $0.maxStreams = 2 }
        let first = Array(try TestStreams.simulated(streamID: "one", seconds: 0.2))
        let second = Array(try TestStreams.simulated(streamID: "two", seconds: 0.2))
        try await testGracefulShutdown { trigger in
            async let running: Void = harness.service.run()
            let replies = try await withThrowingTaskGroup(of: String.self) { group in
                for bytes in [first, second] {
                    group.addTask {
                        try await harness.send(bytes) {
                            await harness.recorder.wait {
                                $0.filter(\.isRefused).count == 2
                            }
                        }
                    }
                }
                await harness.recorder.wait { $0.filter(\.isOpened).count == 2 }
                let third = try await harness.send(Array(try TestStreams.simulated(streamID: "three", seconds: 0.2)))
                let duplicate = try await harness.send(first)
                return try await group.reduce(into: [third, duplicate]) { $0.append($1) }
            }
            #expect(try errorCode(replies[0]) == "refused")
            #expect(replies[0].contains("limit of 2 open streams"))
            #expect(try errorCode(replies[1]) == "refused")
            #expect(replies[1].contains("'one' is already open") || replies[1].contains("limit of 2"))
            #expect(replies[2...].allSatisfy { $0.isEmpty })
            trigger.triggerGracefulShutdown()
            try await running
        }
        await harness.finish()
    }

    /// A client dripping its header (1 byte a second) is closed at the header deadline with `header_timeout`
    /// and frees its slot; a producer behind it is served. (The deadline leaves that producer seconds to spare
    /// when the suite's other tests keep the machine busy.)
    @Test func aHeaderNotCompleteInTimeClosesTheConnection() async throws {
        let harness = try await IngestHarness.start(shards: 1) { $0.headerTimeoutSeconds = 6 }
        let stream = Array(try TestStreams.simulated(streamID: "real", seconds: 0.5))
        try await testGracefulShutdown { trigger in
            async let running: Void = harness.service.run()
            let reply = try await SocketOutput.withConnection(socketPath: harness.socketPath) { output in
                for byte in stream.prefix(10) {
                    try await output.write([byte])
                    try await Task.sleep(for: .seconds(1))
                }
            }.reply
            #expect(try errorCode(reply) == "header_timeout", "\(reply)")
            #expect(try await harness.send(stream).isEmpty)
            await harness.recorder.wait(for: "real") { $0.isEnded }
            trigger.triggerGracefulShutdown()
            try await running
        }
        await harness.finish()
    }

    /// One local user holds at most its per-user number of connections: the next one from the same uid is
    /// refused naming the limit and the user.
    @Test func oneUserCannotTakeEveryConnection() async throws {
        let harness = try await IngestHarness.start(shards: 1) { $0.maxConnectionsPerUser = 2 }
        try await testGracefulShutdown { trigger in
            async let running: Void = harness.service.run()
            let third = try await withThrowingTaskGroup(of: String.self) { group in
                for name in ["one", "two"] {
                    let bytes = Array(try TestStreams.simulated(streamID: name, seconds: 0.2))
                    group.addTask {
                        try await harness.send(bytes) {
                            await harness.recorder.wait { $0.contains(where: \.isRefused) }
                        }
                    }
                }
                // Both are counted once their streams opened; the third connection of the same user comes after.
                await harness.recorder.wait { $0.filter(\.isOpened).count == 2 }
                let reply = try await harness.send([])
                for try await _ in group {}
                return reply
            }
            #expect(try errorCode(third) == "refused")
            #expect(third.contains("limit of 2 connections of user \(getuid())"), "\(third)")
            trigger.triggerGracefulShutdown()
            try await running
        }
        await harness.finish()
    }

    /// A live stream of 4 s written at once, its connection kept open, is read no faster than real time plus the
    /// 2 s lead: its third window (samples to about 3.7 s) is formed no sooner than about 1.7 s after it was sent.
    @Test func aLiveStreamFasterThanRealTimeIsPacedAtItsSocket() async throws {
        let harness = try await IngestHarness.start(shards: 1)
        let stream = Array(try TestStreams.simulated(streamID: "eager", seconds: 4))
        try await testGracefulShutdown { trigger in
            async let running: Void = harness.service.run()
            let started = ContinuousClock.now
            let elapsed = Mutex(Duration.zero)
            let reply = try await harness.send(stream) {
                let deadline = ContinuousClock.now + .seconds(30)
                while harness.queue.statistics.published < 3, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                elapsed.withLock { $0 = started.duration(to: .now) }
            }
            #expect(reply.isEmpty)
            await harness.recorder.wait(for: "eager") { $0.isEnded }
            let took = elapsed.withLock { $0 }
            #expect(took > .seconds(1.5), "three windows in \(took)")
            trigger.triggerGracefulShutdown()
            try await running
        }
        await harness.waitForEndings(1)
        // 4 s at 100 Hz, windows of 2.5 s every 0.5 s, the last one still in the resampler: 3 formed.
        #expect(harness.queue.statistics.published == 3)
        await harness.finish()
    }

    @Test func gracefulShutdownClosesOpenStreamsWithAReason() async throws {
        let harness = try await IngestHarness.start(shards: 1)
        let bytes = Array(try TestStreams.simulated(streamID: "long", seconds: 1))
        #expect(FileManager.default.fileExists(atPath: harness.socketPath))
        var status = stat()
        #expect(stat(harness.socketPath, &status) == 0 && status.st_mode & 0o777 == 0o660)
        try await testGracefulShutdown { trigger in
            async let running: Void = harness.service.run()
            let reply = try await harness.send(bytes) {
                await harness.recorder.wait(for: "long") { $0.isOpened }
                trigger.triggerGracefulShutdown()
                await harness.recorder.wait(for: "long") { $0.isEndedUnexpectedly }
            }
            #expect(try errorCode(reply) == "service_stopping")
            try await running
        }
        await harness.waitForEndings(1)
        #expect(harness.endings.map(\.ending) == [.unexpected])
        await harness.finish()
        #expect(
            harness.recorder.events.contains {
                if case .endedUnexpectedly("long", let reason, _) = $0 {
                    reason == "the service is stopping"
                } else {
                    false
                }
            }
        )
        #expect(!FileManager.default.fileExists(atPath: harness.socketPath))
    }

    /// A service reading only "standard input": a pipe holding `bytes` and then its end.
    private func startOnStandardInput(_ bytes: [UInt8]) async throws -> IngestHarness {
        let pipe = Pipe()
        let harness = try await IngestHarness.start(shards: 1) { configuration in
            configuration.socketPath = nil
            configuration.readsStandardInput = true
            configuration.standardInputDescriptor = dup(pipe.fileHandleForReading.fileDescriptor)
        }
        try pipe.fileHandleForWriting.write(contentsOf: Data(bytes))
        try pipe.fileHandleForWriting.close()
        return harness
    }

    @Test func standardInputIsOneStreamAndRunEndsWithIt() async throws {
        let bytes = try TestStreams.simulated(streamID: "stdin", seconds: 4)
        let harness = try await startOnStandardInput(bytes)
        try await harness.service.run()
        await harness.recorder.wait(for: "stdin") { $0.isEnded }
        let expected = try await TestStreams.offlineWindows(
            bytes,
            configuration: try DaemonTestSupport.pipelineConfiguration()
        ).count
        await harness.waitForWindows(expected - harness.queue.statistics.skipped)
        await harness.waitForEndings(1)
        #expect(harness.endings.map(\.ending) == [.expected])
        await harness.finish()
        let latency = ResamplerDesign(inputRateHz: 500, outputRateHz: 100).latencySeconds
        #expect(
            harness.recorder.events.first
                == .opened(
                    streamID: "stdin",
                    metadata: [
                        "ecg.stream": "stdin", "ecg.source": "stdin", "ecg.rate_hz": "500", "ecg.format": "f32le",
                        "ecg.leads": StandardLead.allCases.map(\.name).joined(separator: ","), "ecg.derived_leads": "",
                        "ecg.latency_seconds": "\(latency)", "ecg.shard": "0",
                    ]
                )
        )
    }

    @Test func brokenStreamOnStandardInputFailsTheService() async throws {
        let harness = try await startOnStandardInput(Array("not a header\n".utf8))
        await #expect {
            try await harness.service.run()
        } throws: { error in
            guard case .standardInput(let reason) = error as? IngestError else { return false }
            return reason.contains("bad stream header")
        }
        await harness.finish()
    }

    @Test func adoptsAnInheritedListeningSocket() async throws {
        let directory = try DaemonTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/inherited.sock"
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let bound = try UnixSocketConnection.withAddress(path) { bind(descriptor, $0, $1) }
        #expect(bound == 0 && listen(descriptor, 16) == 0)
        let harness = try await IngestHarness.start(shards: 1) { configuration in
            configuration.socketPath = nil
            configuration.inheritedSocketDescriptor = descriptor
        }
        let bytes = try TestStreams.simulated(streamID: "activated", seconds: 3)
        try await testGracefulShutdown { trigger in
            async let running: Void = harness.service.run()
            let reply = try await SocketOutput.withConnection(socketPath: path) { try await $0.write(bytes) }.reply
            #expect(reply.isEmpty)
            await harness.recorder.wait(for: "activated") { $0.isEnded }
            trigger.triggerGracefulShutdown()
            try await running
        }
        await harness.finish()
        #expect(harness.service.boundSocketPath == nil)
    }

    @Test func directoryOnStandardInputIsRefusedAtStart() async throws {
        let directory = try DaemonTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(descriptor) }
        await #expect(throws: IngestError.unsupportedStandardInput(reason: "it is a directory")) {
            _ = try await IngestHarness.start(shards: 1) { configuration in
                configuration.socketPath = nil
                configuration.readsStandardInput = true
                configuration.standardInputDescriptor = descriptor
            }
        }
    }
}

extension IngestHarness {
    /// Returns once the collectors hold at least `count` windows, or the task is cancelled.
    func waitForWindows(_ count: Int) async {
        while collectors.reduce(0, { $0 + $1.windows.withLock { $0.count } }) < count, !Task.isCancelled {
            await Task.yield()
        }
    }

    /// Every stream ending the collectors took.
    var endings: [(streamID: String, ending: StreamEnding)] {
        collectors.flatMap { $0.endings.withLock { $0 } }
    }

    /// Returns once the collectors took at least `count` stream endings, or after 30 s (a stream refused on a
    /// starved machine never ends: the expectations that follow fail instead of the test hanging).
    func waitForEndings(_ count: Int) async {
        let deadline = ContinuousClock.now + .seconds(30)
        while endings.count < count, !Task.isCancelled, ContinuousClock.now < deadline {
            await Task.yield()
        }
    }
}
