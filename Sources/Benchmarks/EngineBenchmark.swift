import Foundation
import Model
import Producers
import Synchronization

/// Measures the engine's throughput and latency on random windows: what `ecg-monitor bench` prints.
///
/// `threads` workers run, one thread each with its own workspace and single-threaded OpenBLAS, as the daemon
/// runs them. The single-thread sgemm ceiling is measured in the same run so that the achieved rate can be read
/// as a fraction of what the machine gives at that moment.
package struct EngineBenchmark {
    /// The JSON printed.
    package struct Report: Encodable {
        package struct Latency: Encodable {
            package var p50: Double
            package var p90: Double
            package var p99: Double
        }

        package var engine = "ecg-monitor"
        package var batch: Int
        package var time: Int
        package var threads: Int
        package var seconds: Double
        package var calls: Int
        package var windowsPerSecond: Double
        package var windowsPerCpuSecond: Double
        package var latencyMs: Latency
        package var mflopPerWindow: Double
        package var achievedGflops: Double
        package var sgemmPeakGflopsPerThread: Double
        package var fractionOfPeak: Double
        package var loadAverage: Double?
        /// The OpenBLAS kernels in use (`openblas_get_corename`): a core below the CPU explains a slow run.
        package var blasCore: String
        /// The kernels this CPU deserves when ``blasCore`` is below it (an `OPENBLAS_CORETYPE` set in the
        /// environment is never overridden); nil when the kernels in use are right.
        package var blasCoreRecommended: String?
        /// The streaming executor measured in the same run, when a streaming model was given.
        package var streaming: StreamingBenchmark.Report?
        /// Streaming hops per CPU second over windowed windows per CPU second: how many times the work one
        /// window costs buys one hop.
        package var streamingHopsPerWindow: Double?

        enum CodingKeys: String, CodingKey {
            case engine, batch, time, threads, seconds, calls
            case windowsPerSecond = "windows_per_second"
            case windowsPerCpuSecond = "windows_per_cpu_second"
            case latencyMs = "latency_ms"
            case mflopPerWindow = "mflop_per_window"
            case achievedGflops = "achieved_gflops"
            case sgemmPeakGflopsPerThread = "sgemm_peak_gflops_per_thread"
            case fractionOfPeak = "fraction_of_peak"
            case loadAverage = "load_average_1m"
            case blasCore = "blas_core"
            case blasCoreRecommended = "blas_core_recommended"
            case streaming
            case streamingHopsPerWindow = "streaming_hops_per_window"
        }
    }

    /// The most samples (`batch × time`) one call may hold, to keep the buffers within memory.
    package static let maxSamplesPerCall = 10_000_000

    /// The model measured.
    package let model: CompiledModel
    /// Windows per forward call.
    package let batch: Int
    /// Samples per window.
    package let time: Int
    /// Inference workers, one thread each.
    package let threads: Int
    /// Seconds to measure, after one warm-up call per worker.
    package let seconds: Double
    /// The engine's block sizes (samples per pass, output samples per block of shifted copies); nil for the
    /// engine's measured sizes.
    package let blocks: (passColumns: Int?, im2colColumns: Int?)

    /// A benchmark of `model`; see the properties.
    package init(
        model: CompiledModel,
        batch: Int,
        time: Int,
        threads: Int,
        seconds: Double,
        blocks: (passColumns: Int?, im2colColumns: Int?) = (nil, nil)
    ) {
        self.model = model
        self.batch = batch
        self.time = time
        self.threads = threads
        self.seconds = seconds
        self.blocks = blocks
    }

    /// Runs the measurement.
    ///
    /// - Throws: ``ModelError`` when the model cannot run windows of this batch and length.
    package func run() throws -> Report {
        let loaded = model
        let probe = PlanExecutor(model: loaded, maxBatch: batch, maxTimeSamples: time)
        try probe.validate(batch: batch, timeSamples: time)
        BLAS.threads = 1
        let peak = BLAS.peakGigaflops()
        let perWorker = Self.measure(
            model: loaded, batch: batch, time: time, threads: threads, seconds: seconds,
            blocks: (blocks.passColumns, blocks.im2colColumns))
        let latencies = perWorker.flatMap(\.wall)
        let calls = latencies.count
        let windowsPerSecond = Self.rate(perWorker.map(\.wall), itemsPerCall: batch)
        let windowsPerCpuSecond = Self.rate(perWorker.map(\.cpu), itemsPerCall: batch)
        let flops = Double(loaded.plan.flopsPerWindow(timeSamples: time))
        let achieved = windowsPerSecond * flops / 1e9
        return Report(
            batch: batch, time: time, threads: threads, seconds: seconds, calls: calls,
            windowsPerSecond: windowsPerSecond, windowsPerCpuSecond: windowsPerCpuSecond,
            latencyMs: Self.latency(latencies),
            mflopPerWindow: flops / 1e6, achievedGflops: achieved, sgemmPeakGflopsPerThread: peak,
            fractionOfPeak: peak > 0 ? achieved / (peak * Double(threads)) : 0, loadAverage: Self.loadAverage(),
            blasCore: BLAS.coreName, blasCoreRecommended: OpenBLASCore.current().recommendedCoreType)
    }

    /// Runs `threads` workers for `seconds`; returns each worker's call durations in seconds, wall-clock and
    /// thread CPU time (calls finishing in time).
    package static func measure(
        model: CompiledModel, batch: Int, time: Int, threads: Int, seconds: Double, blocks: (Int?, Int?) = (nil, nil)
    ) -> [(wall: [Double], cpu: [Double])] {
        timeCalls(threads: threads, seconds: seconds) { worker in
            let engine =
                if case (let pass?, let im2col?) = blocks {
                    PlanExecutor(
                        model: model, maxBatch: batch, maxTimeSamples: time, passColumns: pass,
                        im2colColumns: im2col)
                } else {
                    PlanExecutor(model: model, maxBatch: batch, maxTimeSamples: time)
                }
            var generator = SplitMix64(seed: UInt64(worker + 1))
            let input = (0..<(batch * model.plan.inputChannels * time)).map { _ in Float(generator.nextGaussian()) }
            var logits = [Float](repeating: 0, count: batch * model.plan.outputCount)
            return {
                input.withUnsafeBufferPointer { windows in
                    logits.withUnsafeMutableBufferPointer { output in
                        engine.forward(windows.baseAddress!, batch: batch, timeSamples: time, into: output.baseAddress!)
                    }
                }
            }
        }
    }

    /// Runs `threads` workers, each on a thread of its own: `prepare(worker)` builds the worker's call on its
    /// thread, which runs once to warm up, then as often as fits in `seconds` after all workers are ready.
    ///
    /// - Returns: each worker's call durations in seconds, wall-clock and thread CPU time: the calls finishing in
    ///   time, and at least one, so a worker descheduled past the deadline on a busy machine still reports a call.
    package static func timeCalls(
        threads: Int,
        seconds: Double,
        prepare: @escaping @Sendable (Int) -> () -> Void
    ) -> [(wall: [Double], cpu: [Double])] {
        let results = Mutex<[(wall: [Double], cpu: [Double])]>([])
        let done = DispatchSemaphore(value: 0)
        let start = DispatchSemaphore(value: 0)
        for worker in 0..<threads {
            let thread = Thread {
                let call = prepare(worker)
                call()
                start.wait()
                var wall: [Double] = []
                var cpu: [Double] = []
                wall.reserveCapacity(100_000)
                cpu.reserveCapacity(100_000)
                let clock = ContinuousClock()
                let deadline = clock.now + .nanoseconds(Int64(seconds * 1e9))
                while true {
                    let began = clock.now
                    let cpuBegan = threadCPUSeconds()
                    call()
                    let cpuEnded = threadCPUSeconds()
                    let ended = clock.now
                    let late = ended > deadline
                    if late && !wall.isEmpty { break }
                    wall.append(began.duration(to: ended) / .seconds(1))
                    cpu.append(cpuEnded - cpuBegan)
                    if late { break }
                }
                results.withLock { $0.append((wall, cpu)) }
                done.signal()
            }
            thread.start()
        }
        for _ in 0..<threads { start.signal() }
        for _ in 0..<threads { done.wait() }
        return results.withLock { $0 }
    }

    /// Items per second: each worker's rate over the time its calls took (not the nominal duration, which would
    /// count the unfinished last call as lost), summed over workers. Over CPU times it leaves out time a worker's
    /// thread spent descheduled, which other processes on a shared machine cause.
    package static func rate(_ perWorker: [[Double]], itemsPerCall: Int) -> Double {
        perWorker.reduce(0.0) { total, times in
            let busy = times.reduce(0, +)
            return total + (busy > 0 ? Double(times.count * itemsPerCall) / busy : 0)
        }
    }

    /// Percentiles of call durations (seconds), in milliseconds.
    package static func latency(_ durations: [Double]) -> Report.Latency {
        let sorted = durations.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)] * 1000
        }
        return Report.Latency(p50: percentile(0.5), p90: percentile(0.9), p99: percentile(0.99))
    }

    /// CPU time the calling thread has used, in seconds.
    package static func threadCPUSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }

    /// The 1-minute load average, to record how busy the machine was.
    static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }
}
