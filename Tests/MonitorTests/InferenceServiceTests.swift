import Alarms
import ArgumentParser
import Foundation
import Model
import ServiceLifecycle
import ServiceLifecycleTestKit
import Stream
import TestSupport
import Testing

@testable import Monitor

@Suite(.timeLimit(.minutes(1))) struct InferenceServiceTests {
    /// The default model, the pipeline it asks for (windows every 0.5 s), a queue and a started service.
    struct Setup {
        let model: CompiledModel
        let pipeline: PipelineConfiguration
        let queue: WindowQueue
        let service: InferenceService
        let counters: InferenceCounters
        let results: AsyncStream<AlarmInput>
        let continuation: AsyncStream<AlarmInput>.Continuation

        init(shards: Int = 1, maxBatch: Int = 4, keepingNewestResults: Int? = nil) async throws {
            model = try CompiledModel(contentsOf: DaemonTestSupport.defaultModelPath)
            pipeline = try PipelineConfiguration(
                model: model.config,
                path: "default",
                hopSeconds: 0.5,
                quality: SignalQualityThresholds(flatLinePeakToPeakMillivolts: 0.02, saturationMillivolts: 10)
            )
            queue = try WindowQueue(capacity: 8, windowValueCount: pipeline.windowValueCount, shardCount: shards)
            counters = InferenceCounters(workerCount: shards)
            (results, continuation) = AsyncStream.makeStream(
                of: AlarmInput.self,
                bufferingPolicy: keepingNewestResults.map { .bufferingNewest($0) } ?? .unbounded
            )
            service = try await InferenceService.start(
                model: .windowed(model),
                queue: queue,
                maxBatch: maxBatch,
                windowSamples: pipeline.windowSamples,
                pollInterval: .milliseconds(20),
                results: continuation,
                counters: counters,
                logger: DaemonTestSupport.logger
            )
        }

        /// Publishes the windows of `bytes` (one protocol stream); when `oneByOne`, waits after each frame until
        /// its windows were handled, so that none is replaced by a newer one (frames must then complete one
        /// window at most). Returns the windows' infos.
        func publish(
            _ bytes: [UInt8],
            to publisher: WindowQueue.Publisher,
            oneByOne: Bool
        ) async throws -> [WindowInfo] {
            var windows: [WindowInfo] = []
            try await TestStreams.decode(bytes, configuration: pipeline) { window in
                publisher.publish(window)
                windows.append(window.info)
            } afterFrame: {
                if oneByOne { await waitForWindows(windows.count) }
            }
            return windows
        }

        /// Returns once the workers handled `count` windows.
        func waitForWindows(_ count: Int) async {
            while counters.total.classified + counters.total.faulty < UInt64(count), !Task.isCancelled {
                await Task.yield()
            }
        }

        /// Lets the workers drain, stops them and returns every result they handed over.
        func drain() async -> [AlarmInput] {
            await testGracefulShutdown { trigger in
                async let running: Void = service.run()
                trigger.triggerGracefulShutdown()
                await running
            }
            continuation.finish()
            var inputs: [AlarmInput] = []
            for await input in results { inputs.append(input) }
            return inputs
        }
    }

    static func record(_ name: String) throws -> WFDBRecord {
        try WFDBRecord.read(path: try DaemonTestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/\(name)"))
    }

    @Test func resultsMatchTheEngineAndTheEndingComesLast() async throws {
        let setup = try await Setup()
        let publisher = try setup.queue.open(streamID: "bed-1")
        let bytes = try TestStreams.record(try Self.record("00172_lr"), streamID: "bed-1", frameSamples: 50)
        let windows = try await setup.publish(bytes, to: publisher, oneByOne: true)
        publisher.close(ending: .expected)
        let inputs = await setup.drain()
        #expect(windows.count == 16)
        try #require(inputs.count == windows.count + 1)
        let reference = try ClassifyRecordTests.classify(
            "ECG-classification---CNN1D-on-PTB-XL/00172_lr",
            hopSeconds: 0.5
        )
        for (index, input) in inputs.dropLast().enumerated() {
            guard case .classified(let stream, let start, let end, let probabilities, _, _) = input else {
                Issue.record("input \(index) is \(input)")
                continue
            }
            #expect(stream == "bed-1" && start == 0.5 * Double(index) && end == start + 2.5)
            let expected = reference.windows[index].probabilities
            let worst = zip(probabilities, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-5, "window \(index): \(worst)")
        }
        guard case .ended(stream: "bed-1", .expected) = inputs.last else {
            Issue.record("last input is \(String(describing: inputs.last))")
            return
        }
        #expect(setup.counters.total.classified == 16 && setup.counters.total.latency.total == 16)
    }

    @Test func windowWithAFlatLeadIsClassifiedWithTheLeadMaskedAndFlagged() async throws {
        let setup = try await Setup()
        let publisher = try setup.queue.open(streamID: "bed-2")
        let bytes = try TestStreams.record(
            try Self.record("00057_lr"),
            streamID: "bed-2",
            flatLeads: [.v3],
            seconds: 3,
            frameSamples: 50
        )
        let windows = try await setup.publish(bytes, to: publisher, oneByOne: true)
        publisher.close(ending: .unexpected)
        let inputs = await setup.drain()
        #expect(windows.count == 2)
        let v3 = try #require(StandardLead.allCases.firstIndex(of: .v3))
        for input in inputs.dropLast() {
            guard case .classified(_, _, _, _, let flags, _) = input else {
                Issue.record("expected a classified window, got \(input)")
                continue
            }
            #expect(flags == TechnicalFlags(flatLeads: LeadSet(leadIndex: v3)))
        }
        #expect(setup.counters.total.classified == 2 && setup.counters.total.faulty == 0)
        guard case .ended(stream: "bed-2", .unexpected) = inputs.last else {
            Issue.record("last input is \(String(describing: inputs.last))")
            return
        }
    }

    @Test func stalledStreamIsForwardedAsItsEnding() async throws {
        let setup = try await Setup()
        try setup.queue.open(streamID: "quiet").close(ending: .stalled)
        let inputs = await setup.drain()
        try #require(inputs.count == 1)
        guard case .ended(stream: "quiet", .stalled) = inputs[0] else {
            Issue.record("inputs \(inputs)")
            return
        }
    }

    /// Windows still queued when graceful shutdown comes are classified, and their streams' ends follow them.
    @Test func gracefulShutdownDrainsTheWindowsInFlight() async throws {
        let setup = try await Setup(shards: 2, maxBatch: 2)
        var published: [String: WindowInfo] = [:]
        for index in 0..<6 {
            let streamID = "bed-\(index)"
            let publisher = try setup.queue.open(streamID: streamID)
            let bytes = try TestStreams.record(try Self.record("00400_lr"), streamID: streamID, seconds: 3)
            published[streamID] = try await setup.publish(bytes, to: publisher, oneByOne: false).last
            publisher.close(ending: .unexpected)
        }
        let inputs = await setup.drain()
        for (streamID, last) in published {
            var lastEnd: Double?
            var ended = false
            for input in inputs {
                switch input {
                case .classified(streamID, _, let end, _, _, _):
                    #expect(!ended, "\(streamID): a window after the end")
                    lastEnd = end
                case .ended(streamID, .unexpected):
                    ended = true
                default:
                    break
                }
            }
            #expect(ended, "\(streamID) never ended")
            #expect(lastEnd == last.endSeconds, "\(streamID): last window classified \(String(describing: lastEnd))")
        }
    }

    @Test func resultsTheAlarmSideCouldNotTakeAreCounted() async throws {
        let setup = try await Setup(keepingNewestResults: 1)
        for index in 0..<3 {
            let publisher = try setup.queue.open(streamID: "bed-\(index)")
            let bytes = try TestStreams.record(try Self.record("00400_lr"), streamID: "bed-\(index)", seconds: 2.5)
            _ = try await setup.publish(bytes, to: publisher, oneByOne: true)
        }
        let inputs = await setup.drain()
        #expect(inputs.count == 1)
        #expect(setup.counters.total.classified == 3 && setup.counters.total.droppedInputs == 2)
    }
}
