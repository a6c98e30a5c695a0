import Model

/// Runs the classifiable windows of a batch through the model the daemon serves: a windowed model on each whole
/// window; a streaming model on each stream's samples new since its previous window, carrying the stream's
/// state from window to window, so a hop costs only its new samples.
///
/// A streaming stream's state follows the windows it is given: when windows were dropped or left unclassified
/// (noise, leads off) but the next window still holds every sample since the last one fed, those samples are fed
/// and the logits stay exact; after a longer gap the stream starts over from that window, as a new stream would
/// (its first readout comes after one window, as at a stream's start). Not thread-safe: one per worker.
final class WindowEngine {
    /// Where a window of the batch comes from.
    struct Window {
        /// The stream, as long as it lives (a new stream reusing an id gets a new key).
        var stream: WindowQueue.Ticket
        /// The stream sample (at the model rate) just after the window's last.
        var endSample: Int
    }

    private enum Executor {
        case windowed(PlanExecutor)
        case streaming(StreamingExecutor)
    }

    /// One stream's streaming state and the stream sample it started at.
    private struct Stream {
        let state: StreamingState
        var firstSample: Int
        var nextSample: Int { firstSample + state.samplesSeen }
    }

    private let executor: Executor
    private let leads: Int
    private let windowSamples: Int
    private let classCount: Int
    private var streams: [WindowQueue.Ticket: Stream] = [:]
    /// A streaming call's input `[maxBatch][leads][windowSamples]` and output `[maxBatch][classes]`.
    private let feed: UnsafeMutablePointer<Float>
    private let fedLogits: UnsafeMutablePointer<Float>
    // per call, kept to reuse their storage
    private var group: [StreamingState] = []
    private var groupRows: [Int] = []
    private var groupCounts: [Int] = []
    private var members = Set<WindowQueue.Ticket>()
    private var done: [Bool] = []

    /// An engine for batches of up to `maxBatch` windows of `windowSamples` samples.
    ///
    /// - Throws: ``ModelError/badInput(reason:)`` when a windowed model's graph cannot run such batches.
    init(model: LoadedModel, maxBatch: Int, windowSamples: Int) throws(ModelError) {
        switch model {
        case .windowed(let compiled):
            let engine = PlanExecutor(model: compiled, maxBatch: maxBatch, maxTimeSamples: windowSamples)
            for size in Set([1, maxBatch]) {
                try engine.validate(batch: size, timeSamples: windowSamples)
            }
            executor = .windowed(engine)
        case .streaming(let streaming):
            executor = .streaming(StreamingExecutor(model: streaming, maxStreams: maxBatch, maxSamples: windowSamples))
        }
        leads = model.leadCount
        self.windowSamples = windowSamples
        classCount = model.classCount
        feed = .allocate(capacity: maxBatch * model.leadCount * windowSamples)
        feed.initialize(repeating: 0, count: maxBatch * model.leadCount * windowSamples)
        fedLogits = .allocate(capacity: maxBatch * model.classCount)
        fedLogits.initialize(repeating: 0, count: maxBatch * model.classCount)
        group.reserveCapacity(maxBatch)
        groupRows.reserveCapacity(maxBatch)
        groupCounts.reserveCapacity(maxBatch)
        members.reserveCapacity(maxBatch)
        done = Array(repeating: false, count: maxBatch)
    }

    deinit {
        feed.deallocate()
        fedLogits.deallocate()
    }

    /// Writes the logits of the first `windows.count` windows of `batch` (`[count][leads][windowSamples]`) into
    /// `logits` (`[count][classes]`). Windows of one stream come in stream order.
    func run(_ batch: UnsafePointer<Float>, windows: ArraySlice<Window>, into logits: UnsafeMutablePointer<Float>) {
        guard !windows.isEmpty else { return }
        switch executor {
        case .windowed(let engine):
            engine.forward(batch, batch: windows.count, timeSamples: windowSamples, into: logits)
        case .streaming(let engine):
            feed(engine, batch, windows: windows, into: logits)
        }
    }

    /// Forgets a stream that has ended.
    func end(_ stream: WindowQueue.Ticket) {
        streams[stream] = nil
    }

    /// The streaming path: each window's new samples. A call advances one window of each stream in the batch by
    /// as many samples as the fewest any of them still needs; a window that needs more (its stream lost windows
    /// before it, or starts over) continues in the next call, and a stream's next window waits until this one is
    /// done, so every stream's samples go in order and no call is smaller than it has to be.
    private func feed(
        _ engine: StreamingExecutor,
        _ batch: UnsafePointer<Float>,
        windows: ArraySlice<Window>,
        into logits: UnsafeMutablePointer<Float>
    ) {
        for row in 0..<windows.count { done[row] = false }
        var remaining = windows.count
        while remaining > 0 {
            group.removeAll(keepingCapacity: true)
            groupRows.removeAll(keepingCapacity: true)
            groupCounts.removeAll(keepingCapacity: true)
            members.removeAll(keepingCapacity: true)
            for (row, window) in zip(0..<windows.count, windows) where !done[row] {
                if members.contains(window.stream) { continue }
                members.insert(window.stream)
                // counted now: the stream's earlier windows of this batch were fed in earlier calls
                let (state, count) = unfed(window, engine)
                group.append(state)
                groupRows.append(row)
                groupCounts.append(count)
            }
            let samples = groupCounts.min() ?? 0
            for (index, row) in groupRows.enumerated() {
                let source = batch + row * leads * windowSamples + (windowSamples - groupCounts[index])
                let target = feed + index * leads * samples
                for lead in 0..<leads {
                    (target + lead * samples).update(from: source + lead * windowSamples, count: samples)
                }
            }
            // sizes fit the executor: at most maxBatch streams of at most windowSamples samples
            try? engine.advance(group, samples: samples, input: feed, logits: fedLogits)
            for (index, row) in groupRows.enumerated() where groupCounts[index] == samples {
                (logits + row * classCount).update(from: fedLogits + index * classCount, count: classCount)
                done[row] = true
                remaining -= 1
            }
        }
    }

    /// The state of `window`'s stream and how many of the window's samples it has not been fed: those since the
    /// last window fed when the window holds them all, else the whole window with the stream started over.
    private func unfed(_ window: Window, _ engine: StreamingExecutor) -> (StreamingState, count: Int) {
        let start = window.endSample - windowSamples
        if let stream = streams[window.stream], stream.nextSample >= start, stream.nextSample < window.endSample {
            return (stream.state, window.endSample - stream.nextSample)
        }
        let state = streams[window.stream]?.state ?? StreamingState(model: engine.model)
        state.reset()
        streams[window.stream] = Stream(state: state, firstSample: start)
        return (state, windowSamples)
    }
}
