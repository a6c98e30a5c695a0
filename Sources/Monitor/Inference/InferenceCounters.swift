import Synchronization

/// What the inference workers did, for the status line and the shutdown log; readable from any thread.
///
/// Each worker records into its own slot (its own lock, contended only by readers), so workers never wait
/// for each other.
final class InferenceCounters: Sendable {
    /// Counts of one worker.
    struct Counts: Sendable, Equatable {
        /// Windows run through the model.
        var classified: UInt64 = 0
        /// Windows not classified because of a technical fault.
        var faulty: UInt64 = 0
        /// Inputs the alarm side's full buffer dropped (its oldest) to take a new one.
        var droppedInputs: UInt64 = 0
        /// Window latency from its publication by ingest (its last sample computed) to its result handed to
        /// the alarm side: queueing, the forward pass, the hand-off.
        var latency = LatencyHistogram()

        /// The sum of two workers' counts.
        func adding(_ other: Counts) -> Counts {
            var sum = self
            sum.classified &+= other.classified
            sum.faulty &+= other.faulty
            sum.droppedInputs &+= other.droppedInputs
            sum.latency = latency.adding(other.latency)
            return sum
        }
    }

    /// One worker's counts behind its own lock.
    private final class Slot: Sendable {
        let counts = Mutex(Counts())
    }

    private let workers: [Slot]

    /// Zeroed counters for `workerCount` workers.
    init(workerCount: Int) {
        workers = (0..<workerCount).map { _ in Slot() }
    }

    /// Records one window of worker `worker`.
    ///
    /// - Complexity: O(1), no allocation.
    func record(worker: Int, classified: Bool, latencySeconds: Double) {
        workers[worker].counts.withLock { counts in
            if classified { counts.classified &+= 1 } else { counts.faulty &+= 1 }
            counts.latency.record(seconds: latencySeconds)
        }
    }

    /// Records that worker `worker`'s hand-off to the alarm side dropped an input.
    func recordDroppedInput(worker: Int) {
        workers[worker].counts.withLock { $0.droppedInputs &+= 1 }
    }

    /// The counts of every worker added up.
    var total: Counts {
        // Added inside the lock into fresh storage: a reader holding on to the worker's own array would make
        // the worker's next record copy it.
        workers.reduce(Counts()) { sum, worker in worker.counts.withLock { sum.adding($0) } }
    }
}
