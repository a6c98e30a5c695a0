import Alarms
import Glibc
import Model
import Stream
import Systemd

/// One inference thread's state and loop: it takes its shard's windows from the ``WindowQueue`` in batches,
/// runs the windows without a technical fault through its own engine, and hands every window's outcome and
/// every stream ending to the alarm side, in the order the queue delivered them.
///
/// Lives on its thread only (not `Sendable`). Every buffer is allocated in `init`: the loop allocates nothing
/// but the probability array each classified window hands over (``AlarmInput`` owns one).
final class InferenceWorker {
    /// The worker's shard of the queue, also its index in ``InferenceCounters``.
    let shard: Int
    private let engine: WindowEngine
    private let queue: WindowQueue
    private let maxBatch: Int
    private let windowSamples: Int
    private let classCount: Int
    private let pollInterval: Duration
    private let heartbeat: Heartbeat
    private let results: AsyncStream<AlarmInput>.Continuation
    private let counters: InferenceCounters
    private let batch: UnsafeMutablePointer<Float>
    private let logits: UnsafeMutablePointer<Float>
    private var tags: [WindowQueue.Tag]
    /// Per tag of the batch: its row in `logits`, or −1 when its window is not classified.
    private var rows: [Int]
    /// Per row of `logits`: the stream and end of its window.
    private var windows: [WindowEngine.Window]

    /// Allocates the engine and the buffers.
    ///
    /// - Parameters:
    ///   - model: The model, shared by every worker.
    ///   - queue: Where windows come from.
    ///   - shard: The shard this worker serves.
    ///   - maxBatch: Entries taken per batch at most.
    ///   - windowSamples: Samples per lead in a window.
    ///   - pollInterval: How long a pop waits before the loop beats its heartbeat again.
    ///   - heartbeat: Beaten on every pass, retired when the loop ends.
    ///   - results: The alarm side's input.
    ///   - counters: Where the worker records its windows.
    /// - Throws: ``ModelError/badInput(reason:)`` when the model's graph cannot run batches of `maxBatch`
    ///   windows of `windowSamples` samples (a graph with a fixed batch or window size).
    init(
        model: LoadedModel,
        queue: WindowQueue,
        shard: Int,
        maxBatch: Int,
        windowSamples: Int,
        pollInterval: Duration,
        heartbeat: Heartbeat,
        results: AsyncStream<AlarmInput>.Continuation,
        counters: InferenceCounters
    ) throws(ModelError) {
        precondition(queue.windowValueCount == model.leadCount * windowSamples, "queue and model disagree")
        engine = try WindowEngine(model: model, maxBatch: maxBatch, windowSamples: windowSamples)
        self.queue = queue
        self.shard = shard
        self.maxBatch = maxBatch
        self.windowSamples = windowSamples
        self.pollInterval = pollInterval
        self.heartbeat = heartbeat
        self.results = results
        self.counters = counters
        classCount = model.classCount
        batch = .allocate(capacity: maxBatch * queue.windowValueCount)
        batch.initialize(repeating: 0, count: maxBatch * queue.windowValueCount)
        logits = .allocate(capacity: maxBatch * classCount)
        logits.initialize(repeating: 0, count: maxBatch * classCount)
        tags = Array(repeating: .empty, count: maxBatch)
        rows = Array(repeating: -1, count: maxBatch)
        windows = Array(
            repeating: WindowEngine.Window(stream: WindowQueue.Tag.empty.ticket, endSample: 0), count: maxBatch)
    }

    deinit {
        batch.deallocate()
        logits.deallocate()
    }

    /// Serves the shard until the queue is stopped and the shard drained, then retires the heartbeat.
    func run() {
        while true {
            heartbeat.beat()
            // Read before the pop: a stop seen here means everything published was queued before this pop.
            let stopping = queue.isStopped
            let count = queue.popBatch(
                shard: shard,
                maxBatch: maxBatch,
                into: batch,
                tags: &tags,
                timeout: pollInterval
            )
            if count == 0 {
                if stopping { break }
                continue
            }
            classify(count)
            report(count)
        }
        heartbeat.retire()
    }

    /// Moves the classifiable windows (their off leads already masked by the pipeline) to the front of the batch
    /// and runs them.
    private func classify(_ count: Int) {
        let windowValues = queue.windowValueCount
        var classified = 0
        for index in 0..<count {
            rows[index] = -1
            guard let position = tags[index].batchIndex, tags[index].info.quality.isClassifiable else { continue }
            // `classified < position`, so the two windows never overlap.
            if position != classified {
                (batch + classified * windowValues).update(from: batch + position * windowValues, count: windowValues)
            }
            rows[index] = classified
            windows[classified] = WindowEngine.Window(
                stream: tags[index].ticket, endSample: Int(tags[index].info.endSample))
            classified += 1
        }
        engine.run(batch, windows: windows[0..<classified], into: logits)
    }

    /// Hands one input to the alarm side, counting it when the alarm side's buffer was full and dropped its oldest.
    private func send(_ input: AlarmInput) {
        if case .dropped = results.yield(input) { counters.recordDroppedInput(worker: shard) }
    }

    /// Hands each entry's outcome to the alarm side, in queue order: the window's result, then the stream's end.
    private func report(_ count: Int) {
        for index in 0..<count {
            let tag = tags[index]
            let info = tag.info
            if tag.batchIndex != nil {
                let flags = TechnicalFlags(quality: info.quality, windowsLostBefore: tag.skippedBefore)
                if rows[index] >= 0 {
                    let row = logits + rows[index] * classCount
                    let probabilities = [Float](unsafeUninitializedCapacity: classCount) { buffer, initialized in
                        for c in 0..<classCount { buffer[c] = CompiledModel.probability(logit: row[c]) }
                        initialized = classCount
                    }
                    send(
                        .classified(
                            stream: info.streamID,
                            startSeconds: info.startSeconds,
                            endSeconds: info.endSeconds,
                            probabilities: probabilities,
                            flags: flags,
                            heartRate: info.heartRate
                        )
                    )
                } else {
                    send(
                        .faulty(
                            stream: info.streamID,
                            startSeconds: info.startSeconds,
                            endSeconds: info.endSeconds,
                            flags: flags,
                            heartRate: info.heartRate
                        )
                    )
                }
                let latency = tag.publishedAt.duration(to: .now)
                counters.record(
                    worker: shard,
                    classified: rows[index] >= 0,
                    latencySeconds: latency / .seconds(1)
                )
            }
            if let ending = tag.ending {
                send(.ended(stream: info.streamID, ending))
            }
            if tag.isFinal { engine.end(tag.ticket) }
        }
    }
}
