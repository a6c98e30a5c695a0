import ArgumentParser
import Producers

/// Where and how fast `replay` and `simulate` send their streams.
struct DeliveryOptions: ParsableArguments {
    @Option(help: "Pace: 1 = real time, N = N times real time, max = as fast as the reader takes it.")
    var speed: Pace = .realTime(factor: 1)

    @Option(help: "Write to the daemon's UNIX socket instead of standard output.")
    var socket: String?

    @Option(
        name: .customLong("frame-ms"),
        help: "Milliseconds of signal per write when paced (at least one sample), as a device's packets."
    )
    var frameMilliseconds = StreamProducer.defaultFrameMilliseconds

    func validate() throws {
        guard StreamProducer.frameMillisecondsRange.contains(frameMilliseconds) else {
            let range = StreamProducer.frameMillisecondsRange
            throw ValidationError("--frame-ms must be from \(range.lowerBound) to \(range.upperBound)")
        }
    }
}

/// The model `classify` and `bench` run.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "The ONNX model file.")
    var model: String
}
