import ArgumentParser
import Producers

/// Where and how fast `replay` and `simulate` send their streams.
struct DeliveryOptions: ParsableArguments {
    @Option(help: "Pace: 1 = real time, N = N times real time, max = as fast as the reader takes it.")
    var speed: Pace = .realTime(factor: 1)

    @Option(help: "Write to the daemon's UNIX socket instead of standard output.")
    var socket: String?
}

/// The model `classify` and `bench` run.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "The ONNX model file.")
    var model: String
}
