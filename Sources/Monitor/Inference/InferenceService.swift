import Alarms
import Logging
import Model
import ServiceLifecycle
import Systemd

/// The inference workers as one service: one thread per shard of the ``WindowQueue``, each with its own engine
/// and workspace and single-threaded OpenBLAS, started before the service group runs.
///
/// On graceful shutdown (ingest has stopped by then: it is listed after this service) the queue is stopped and
/// every worker drains its shard, handing the results of the windows in flight to the alarm side, then exits;
/// `run()` returns once every thread has. Cancellation stops them the same way.
final class InferenceService: Service {
    /// One heartbeat per worker, for the watchdog; retired when the worker drains and exits.
    let heartbeats: [Heartbeat]
    private let queue: WindowQueue
    private let threads: [WorkerThread]
    private let logger: Logger

    private init(heartbeats: [Heartbeat], queue: WindowQueue, threads: [WorkerThread], logger: Logger) {
        self.heartbeats = heartbeats
        self.queue = queue
        self.threads = threads
        self.logger = logger
    }

    /// Starts one worker per shard of `queue` and waits until each has allocated its engine.
    ///
    /// Sets OpenBLAS to one thread first: workers scale across cores, BLAS threads inside them do not.
    ///
    /// - Parameters:
    ///   - model: The model every worker runs.
    ///   - queue: The windows; worker k serves shard k.
    ///   - maxBatch: Entries a worker takes per batch at most.
    ///   - windowSamples: Samples per lead in a window.
    ///   - pollInterval: How long a worker waits for windows before beating its heartbeat again.
    ///   - results: The alarm side's input, yielded to by every worker.
    ///   - counters: Sized for `queue.shardCount` workers.
    ///   - logger: Logs the start and the stop.
    /// - Throws: ``ModelError`` when the model cannot run these batches, ``SystemdError/systemCall(name:errno:)``
    ///   when a thread cannot be created; workers already started are stopped first.
    static func start(
        model: LoadedModel,
        queue: WindowQueue,
        maxBatch: Int,
        windowSamples: Int,
        pollInterval: Duration,
        results: AsyncStream<AlarmInput>.Continuation,
        counters: InferenceCounters,
        logger: Logger
    ) async throws -> InferenceService {
        BLAS.threads = 1
        var heartbeats: [Heartbeat] = []
        var threads: [WorkerThread] = []
        do {
            for shard in 0..<queue.shardCount {
                let heartbeat = Heartbeat(name: "inference-\(shard)")
                try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, any Error>) in
                    do {
                        threads.append(
                            try WorkerThread(name: "inference-\(shard)") {
                                let worker: InferenceWorker
                                do {
                                    worker = try InferenceWorker(
                                        model: model,
                                        queue: queue,
                                        shard: shard,
                                        maxBatch: maxBatch,
                                        windowSamples: windowSamples,
                                        pollInterval: pollInterval,
                                        heartbeat: heartbeat,
                                        results: results,
                                        counters: counters
                                    )
                                } catch {
                                    ready.resume(throwing: error)
                                    return
                                }
                                ready.resume()
                                worker.run()
                            }
                        )
                    } catch {
                        ready.resume(throwing: error)
                    }
                }
                heartbeats.append(heartbeat)
            }
        } catch {
            queue.stop()
            for thread in threads { await thread.join() }
            throw error
        }
        logger.info(
            "inference workers started",
            metadata: ["ecg.workers": "\(threads.count)", "ecg.max_batch": "\(maxBatch)"]
        )
        return InferenceService(heartbeats: heartbeats, queue: queue, threads: threads, logger: logger)
    }

    /// Stops the queue and waits for the workers to drain it and exit; for a start-up that fails after this
    /// service was started.
    func stop() async {
        queue.stop()
        for thread in threads { await thread.join() }
    }

    /// Waits for the workers; on graceful shutdown or cancellation, stops the queue so they drain and exit.
    func run() async {
        await withTaskCancellationOrGracefulShutdownHandler {
            for thread in threads { await thread.join() }
        } onCancelOrGracefulShutdown: { [queue] in
            queue.stop()
        }
        logger.info("inference workers drained and stopped")
    }
}
