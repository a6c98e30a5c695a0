import ArgumentParser
import Stream

/// `ecg-monitor simulate`: writes a synthetic 12-lead stream in the ingest protocol.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a synthetic 12-lead ECG stream in the ingest protocol.",
        discussion: """
            The signal is a cardiac dipole (Gaussian P, QRS and T waves in Frank X, Y, Z) projected onto the 12 \
            leads with Dower's transform. afib: irregular RR, no P waves, 4-9 Hz fibrillatory waves; flutter: \
            300/min sawtooth with fixed conduction; pvc: sinus rhythm with premature wide beats and compensatory \
            pauses. Limits: one morphology per rhythm, no beat-to-beat or respiratory morphology change, smooth \
            Gaussian waves, white noise plus sinusoidal baseline wander. It exercises the pipeline and the alarms; \
            it is not a test set for the classifier. docs/protocol.md describes the output.
            """
    )

    @Option(help: "Rhythm: \(ECGSimulator.Rhythm.allCases.map(\.rawValue).joined(separator: ", ")).")
    var rhythm: ECGSimulator.Rhythm = .sinus

    @Option(help: "Ventricular rate, beats per minute (20-250); default depends on the rhythm.")
    var hr: Double?

    @Option(help: "Seconds of signal to send; endless when omitted.")
    var seconds: Double?

    @Option(help: "Sampling rate, Hz (100-1000).")
    var rate = 500

    @Option(name: .customLong("stream-id"), help: "Stream id in the header.")
    var streamID = "simulated"

    @Option(help: "Sample format: i16le (1 µV per unit), f32le or csv.")
    var format = "i16le"

    @Option(help: "White noise per lead, mV; baseline wander is three times that.")
    var noise = 0.01

    @Option(help: "Seed of the random generator; the same seed gives the same signal.")
    var seed: UInt64 = 1

    @Option(help: "Pace: 1 = real time, N = N times real time, max = as fast as the reader takes it.")
    var speed: Pace = .realTime(factor: 1)

    @Option(help: "Write to the daemon's UNIX socket instead of standard output.")
    var socket: String?

    func validate() throws {
        guard StreamHeader.sampleRateRangeHz.contains(rate) else { throw ValidationError("--rate must be 100...1000") }
        if let hr, !(20...250).contains(hr) { throw ValidationError("--hr must be 20...250") }
        if let seconds, !(seconds > 0 && seconds.isFinite) { throw ValidationError("--seconds must be positive") }
        guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be >= 0") }
        guard ["i16le", "f32le", "csv"].contains(format) else {
            throw ValidationError("--format must be i16le, f32le or csv")
        }
    }

    func run() async throws {
        let simulator = ECGSimulator(
            rhythm: rhythm,
            heartRateBPM: hr,
            sampleRateHz: rate,
            noiseMillivolts: noise,
            seed: seed
        )
        let sampleFormat: SampleFormat =
            switch format {
            case "i16le": .int16(gain: Array(repeating: 1000, count: 12), baseline: Array(repeating: 0, count: 12))
            case "f32le": .float32
            default: .csv
            }
        var source = SimulatorSource(
            simulator: simulator,
            header: try StreamHeader(
                streamID: streamID,
                sampleRateHz: rate,
                leads: StandardLead.allCases,
                format: sampleFormat
            )
        )
        if let socket {
            let (reply, error) = try await SocketOutput.withConnection(socketPath: socket) { output in
                try await StreamProducer.run(source: &source, pace: speed, output: output, maxSeconds: seconds)
            }
            try ProducerReport.check(reply: reply, error: error, streamID: streamID)
        } else {
            try await StreamProducer.run(source: &source, pace: speed, output: StandardOutput(), maxSeconds: seconds)
        }
    }
}

/// The simulator as a ``SampleSource``: 12 leads in standard order, in the header's format.
struct SimulatorSource: SampleSource {
    var simulator: ECGSimulator
    let header: StreamHeader
    private var streamIndex: UInt32 = 0

    init(simulator: ECGSimulator, header: StreamHeader) {
        self.simulator = simulator
        self.header = header
    }

    mutating func appendFrame(maxSamples: Int, to bytes: inout [UInt8]) -> Int {
        var values: [Float] = []
        values.reserveCapacity(maxSamples * 12)
        for _ in 0..<maxSamples { values += simulator.next() }
        switch header.format {
        case .int16(let gain, _):
            let scale = Float(gain[0])
            SampleFrame.appendInt16Frame(
                values.map { Int16(clamping: Int(($0 * scale).rounded())) },
                leadCount: 12,
                firstSampleIndex: streamIndex,
                to: &bytes
            )
        case .float32:
            SampleFrame.appendFloat32Frame(values, leadCount: 12, firstSampleIndex: streamIndex, to: &bytes)
        case .csv:
            SampleFrame.appendCSVLines(values, leadCount: 12, to: &bytes)
        }
        streamIndex &+= UInt32(maxSamples)
        return maxSamples
    }
}

/// Turns the daemon's answer to a producer into the tool's outcome.
enum ProducerReport {
    /// - Throws: ``ProtocolOutputError`` naming the daemon's error line, or the connection error.
    static func check(reply: String, error: (any Error)?, streamID: String) throws {
        let line = reply.split(separator: "\n").first.map(String.init)
        if let line {
            throw ProtocolOutputError(description: "stream \(streamID): the daemon answered \(line)")
        }
        if let error {
            throw ProtocolOutputError(description: "stream \(streamID): \(error)")
        }
    }
}
