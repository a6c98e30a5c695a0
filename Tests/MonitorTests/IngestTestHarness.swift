import Foundation
import Logging
import NIOCore
import Producers
import Stream
import Synchronization
import TestSupport

@testable import Monitor

/// A stream's life as the ingest service logs it, read back from its log entries.
enum IngestEvent: Sendable, Equatable {
    /// `stream opened`, with the entry's metadata (`ecg.rate_hz`, `ecg.format`, `ecg.shard`, …).
    case opened(streamID: String, metadata: [String: String])
    /// `stream ended`, with the stream's counts (`ecg.windows`, `ecg.input_samples`, …).
    case ended(streamID: String, metadata: [String: String])
    /// `stream ended unexpectedly`, with the reason and the stream's counts.
    case endedUnexpectedly(streamID: String, reason: String, metadata: [String: String])
    /// `stream refused`; `streamID` when the header named one.
    case refused(streamID: String?, reason: String)

    /// The event a log entry stands for; nil for other entries.
    init?(message: String, metadata: [String: String]) {
        let streamID = metadata["ecg.stream"]
        switch message {
        case "stream opened": self = .opened(streamID: streamID ?? "", metadata: metadata)
        case "stream ended": self = .ended(streamID: streamID ?? "", metadata: metadata)
        case "stream ended unexpectedly":
            self = .endedUnexpectedly(
                streamID: streamID ?? "",
                reason: metadata["ecg.reason"] ?? "",
                metadata: metadata
            )
        case "stream refused": self = .refused(streamID: streamID, reason: metadata["ecg.reason"] ?? "")
        default: return nil
        }
    }

    /// The stream an event is about, if it names one.
    var streamID: String? {
        switch self {
        case .opened(let streamID, _), .ended(let streamID, _), .endedUnexpectedly(let streamID, _, _): streamID
        case .refused(let streamID, _): streamID
        }
    }

    /// The entry's metadata; empty for a refusal.
    var metadata: [String: String] {
        switch self {
        case .opened(_, let metadata), .ended(_, let metadata), .endedUnexpectedly(_, _, let metadata): metadata
        case .refused: [:]
        }
    }

    var isOpened: Bool { if case .opened = self { true } else { false } }
    var isEnded: Bool { if case .ended = self { true } else { false } }
    var isEndedUnexpectedly: Bool { if case .endedUnexpectedly = self { true } else { false } }
    var isRefused: Bool { if case .refused = self { true } else { false } }
}

/// Records the ingest service's stream events from its log and lets a test wait, without sleeping, until they
/// satisfy a condition.
///
/// A wait also ends when its task is cancelled (a test over its time limit), so a failing test fails
/// instead of hanging the test process.
final class EventRecorder: Sendable {
    private struct Waiter {
        var id: Int
        var condition: @Sendable ([IngestEvent]) -> Bool
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var events: [IngestEvent] = []
        var waiters: [Waiter] = []
        var nextWaiterID = 0
    }

    private let state = Mutex(State())

    /// A logger whose stream entries this recorder records.
    var logger: Logger {
        Logger(label: "ingest-test") { [self] _ in RecordingLogHandler(recorder: self) }
    }

    /// Records one event and resumes the waits it satisfies.
    func record(_ event: IngestEvent) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.events.append(event)
            let events = state.events
            let ready = state.waiters.filter { $0.condition(events) }.map(\.continuation)
            state.waiters.removeAll { $0.condition(events) }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    var events: [IngestEvent] { state.withLock { $0.events } }

    /// Returns once the events recorded so far satisfy `condition`, or the task is cancelled.
    func wait(until condition: @escaping @Sendable ([IngestEvent]) -> Bool) async {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if condition(state.events) || Task.isCancelled { return true }
                    state.waiters.append(Waiter(id: id, condition: condition, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume()
        }
    }

    /// Returns once an event about `streamID` matching `kind` was recorded.
    func wait(for streamID: String, _ kind: @escaping @Sendable (IngestEvent) -> Bool) async {
        await wait { events in events.contains { kind($0) && $0.streamID == streamID } }
    }
}

/// A swift-log backend handing the ingest service's stream entries to an ``EventRecorder``.
struct RecordingLogHandler: LogHandler {
    let recorder: EventRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        guard let recorded = IngestEvent(message: "\(event.message)", metadata: merged.mapValues { "\($0)" }) else {
            return
        }
        recorder.record(recorded)
    }
}

/// An ingest service on a socket in a temporary directory, with window collectors on every shard.
struct IngestHarness {
    let service: IngestService
    let queue: WindowQueue
    let recorder: EventRecorder
    let collectors: [WindowCollector]
    let socketPath: String
    /// The temporary directory holding the socket.
    let directory: String

    /// Starts the service; `configure` adjusts the defaults (12 leads at 100 Hz, 250/50 windows, 2 shards).
    static func start(
        shards: Int = 2,
        configure: (inout IngestConfiguration) -> Void = { _ in }
    ) async throws -> IngestHarness {
        let directory = try DaemonTestSupport.temporaryDirectory()
        var configuration = IngestConfiguration(
            socketPath: directory + "/ingest.sock",
            pipeline: try DaemonTestSupport.pipelineConfiguration()
        )
        // Slow machines (or sanitizers), or a cooperative pool kept busy by other tests, must not turn a waiting
        // test stream into an idle or header timeout.
        configuration.idleTimeoutSeconds = 60
        configuration.headerTimeoutSeconds = 60
        configure(&configuration)
        let queue = try WindowQueue(
            capacity: configuration.maxStreams,
            windowValueCount: configuration.pipeline.windowValueCount,
            shardCount: shards
        )
        let recorder = EventRecorder()
        let service: IngestService
        do {
            service = try await IngestService.start(
                configuration: configuration,
                queue: queue,
                counters: IngestCounters(),
                logger: recorder.logger
            )
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        return IngestHarness(
            service: service,
            queue: queue,
            recorder: recorder,
            collectors: (0..<shards).map { WindowCollector(queue: queue, shard: $0) },
            socketPath: configuration.socketPath ?? "",
            directory: directory
        )
    }

    private init(
        service: IngestService,
        queue: WindowQueue,
        recorder: EventRecorder,
        collectors: [WindowCollector],
        socketPath: String,
        directory: String
    ) {
        self.service = service
        self.queue = queue
        self.recorder = recorder
        self.collectors = collectors
        self.socketPath = socketPath
        self.directory = directory
    }

    /// Sends `bytes` as one connection, then (before half-closing) waits for `whileOpen`; returns the daemon's reply.
    func send(_ bytes: [UInt8], whileOpen: @Sendable () async -> Void = {}) async throws -> String {
        try await SocketOutput.withConnection(socketPath: socketPath) { output in
            try await output.write(bytes)
            await whileOpen()
        }.reply
    }

    /// Stops the collectors and removes the temporary directory.
    func finish() async {
        for collector in collectors { await collector.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Every window delivered so far, by stream.
    var windowsByStream: [String: [WindowCollector.Window]] {
        Dictionary(grouping: collectors.flatMap { $0.windows.withLock { $0 } }, by: \.tag.info.streamID)
    }
}
