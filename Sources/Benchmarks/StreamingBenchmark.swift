import Model
import Producers

/// Measures the streaming executor: `streams` streams advanced by `hop` samples per call, as `ecg-monitor bench
/// --streaming-model` prints it beside the windowed engine's figures of the same run.
package struct StreamingBenchmark {
    /// The JSON printed under `streaming`.
    package struct Report: Encodable {
        package var streams: Int
        package var hopSamples: Int
        package var threads: Int
        package var calls: Int
        /// Stream hops (one stream advanced by one hop) per second, all workers together.
        package var hopsPerSecond: Double
        /// The same per second of the workers' CPU time.
        package var hopsPerCpuSecond: Double
        /// Per call (all streams of the call), milliseconds.
        package var latencyMs: EngineBenchmark.Report.Latency
        /// The numbers a stream carries between hops.
        package var stateBytesPerStream: Int
        /// Real-time streams one worker keeps up with at the model rate: hops per CPU second per worker ×
        /// seconds per hop.
        package var realTimeStreamsPerThread: Double
        /// Samples per pass through the layers.
        package var passColumns: Int

        enum CodingKeys: String, CodingKey {
            case streams, threads, calls
            case hopSamples = "hop_samples"
            case hopsPerSecond = "hops_per_second"
            case hopsPerCpuSecond = "hops_per_cpu_second"
            case latencyMs = "latency_ms"
            case stateBytesPerStream = "state_bytes_per_stream"
            case realTimeStreamsPerThread = "real_time_streams_per_thread"
            case passColumns = "pass_columns"
        }
    }

    /// Runs `threads` workers for `seconds`, each with its own executor and `streams` states, advancing every
    /// stream by `hop` samples of random input per call (the states keep advancing from call to call).
    package static func run(
        model: StreamingModel,
        streams: Int,
        hop: Int,
        threads: Int,
        seconds: Double,
        sampleRateHz: Double,
        passColumns: Int? = nil
    ) -> Report {
        BLAS.threads = 1
        let perWorker = EngineBenchmark.timeCalls(threads: threads, seconds: seconds) { worker in
            let executor =
                if let passColumns {
                    StreamingExecutor(model: model, maxStreams: streams, maxSamples: hop, passColumns: passColumns)
                } else {
                    StreamingExecutor(model: model, maxStreams: streams, maxSamples: hop)
                }
            let states = (0..<streams).map { _ in StreamingState(model: model) }
            var generator = SplitMix64(seed: UInt64(worker + 1))
            let input = (0..<(streams * model.leadCount * hop)).map { _ in Float(generator.nextGaussian()) }
            var logits = [Float](repeating: 0, count: streams * model.classCount)
            return {
                // sizes were fixed when the executor was built, so a call cannot be refused
                try? executor.advance(states, samples: hop, input: input, logits: &logits)
            }
        }
        let hopsPerCpuSecond = EngineBenchmark.rate(perWorker.map(\.cpu), itemsPerCall: streams)
        let durations = perWorker.flatMap(\.wall)
        return Report(
            streams: streams, hopSamples: hop, threads: threads, calls: durations.count,
            hopsPerSecond: EngineBenchmark.rate(perWorker.map(\.wall), itemsPerCall: streams),
            hopsPerCpuSecond: hopsPerCpuSecond, latencyMs: EngineBenchmark.latency(durations),
            stateBytesPerStream: StreamingState(model: model).byteCount,
            realTimeStreamsPerThread: hopsPerCpuSecond / Double(threads) * Double(hop) / sampleRateHz,
            passColumns: passColumns ?? StreamingExecutor(model: model, maxStreams: 1, maxSamples: 1).passColumns)
    }
}
