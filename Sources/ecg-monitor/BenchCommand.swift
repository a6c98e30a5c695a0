import ArgumentParser
import Benchmarks
import Foundation
import Model

/// `ecg-monitor bench`: ``EngineBenchmark`` on random windows, printed as JSON.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure inference throughput and latency and print JSON."
    )

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "Windows per forward call.")
    var batch = 64

    @Option(name: .long, help: "Samples per window.")
    var time = 250

    @Option(name: .long, help: "Inference workers, one thread each.")
    var threads = 1

    @Option(name: .long, help: "Seconds to measure (after one warm-up call per worker).")
    var seconds = 5.0

    @Option(name: .long, help: "Samples per pass (windows × time); default: the engine's measured size.")
    var passColumns: Int?

    @Option(
        name: .long,
        help: "Output samples per block of shifted input copies (the engine's im2col); default: the measured size.")
    var im2colColumns: Int?

    @Option(name: .long, help: "Also measure this streaming model (ONNX) with the streaming executor.")
    var streamingModel: String?

    @Option(name: .long, help: "Streaming: new samples per stream and call (50 = 0.5 s at 100 Hz).")
    var hop = 50

    @Option(name: .long, help: "Streaming: streams advanced per call.")
    var streams = 64

    @Option(name: .long, help: "Streaming: samples per pass through the layers; default: the executor's.")
    var streamingPassColumns: Int?

    func validate() throws {
        guard batch >= 1, time >= 1, threads >= 1, seconds > 0, (passColumns ?? 1) >= 1, (im2colColumns ?? 1) >= 1
        else {
            throw ValidationError("--batch, --time, --threads, --seconds and block sizes must be positive")
        }
        guard hop >= 1, streams >= 1, streams <= EngineBenchmark.maxSamplesPerCall / hop else {
            throw ValidationError(
                "--hop and --streams must be positive, at most \(EngineBenchmark.maxSamplesPerCall) samples per call")
        }
        guard batch <= EngineBenchmark.maxSamplesPerCall / time, threads <= 256 else {
            throw ValidationError("at most \(EngineBenchmark.maxSamplesPerCall) samples per call and 256 threads")
        }
    }

    func run() throws {
        // Kernels below the CPU (a generic core on AVX2, AVX2 ones on AVX-512) run at a third to 0.6 of the speed:
        // measure the right kernels.
        _ = OpenBLASRelaunch.relaunchIfNeeded()
        let benchmark = EngineBenchmark(
            model: try CompiledModel(contentsOf: model.model),
            batch: batch,
            time: time,
            threads: threads,
            seconds: seconds,
            blocks: (passColumns, im2colColumns)
        )
        var report = try benchmark.run()
        if let streamingModel {
            let model = try StreamingModel(contentsOf: streamingModel)
            let streaming = StreamingBenchmark.run(
                model: model, streams: streams, hop: hop, threads: threads, seconds: seconds,
                sampleRateHz: model.config.sampleRateHz ?? 100, passColumns: streamingPassColumns)
            report.streaming = streaming
            report.streamingHopsPerWindow = streaming.hopsPerCpuSecond / report.windowsPerCpuSecond
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
