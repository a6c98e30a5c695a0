import ArgumentParser
import Producers
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

    @Option(
        name: .customLong("hr-step"),
        help: "SECONDS:BPM: from that stream time the rate is BPM (20-250, or 0: no more beats, asystole); repeatable."
    )
    var hrSteps: [String] = []

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

    @OptionGroup var delivery: DeliveryOptions

    func validate() throws {
        guard StreamHeader.sampleRateRangeHz.contains(rate) else { throw ValidationError("--rate must be 100...1000") }
        if let hr, !(20...250).contains(hr) { throw ValidationError("--hr must be 20...250") }
        if let seconds, !(seconds > 0 && seconds.isFinite) { throw ValidationError("--seconds must be positive") }
        _ = try rateSteps()
        guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be >= 0") }
        guard ["i16le", "f32le", "csv"].contains(format) else {
            throw ValidationError("--format must be i16le, f32le or csv")
        }
    }

    /// The `--hr-step` values, checked.
    func rateSteps() throws -> [ECGSimulator.RateStep] {
        try hrSteps.map { text in
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let seconds = Double(parts[0]), let bpm = Double(parts[1]),
                seconds >= 0, seconds.isFinite, bpm == 0 || (20...250).contains(bpm)
            else {
                throw ValidationError("--hr-step \"\(text)\": expected SECONDS:BPM, seconds >= 0, BPM 0 or 20-250")
            }
            return ECGSimulator.RateStep(atSeconds: seconds, beatsPerMinute: bpm)
        }
    }

    func run() async throws {
        let simulator = ECGSimulator(
            rhythm: rhythm,
            heartRateBPM: hr,
            sampleRateHz: rate,
            noiseMillivolts: noise,
            seed: seed,
            rateSteps: try rateSteps()
        )
        let sampleFormat: SampleFormat =
            switch format {
            case "i16le": .int16(gain: Array(repeating: 1000, count: 12), baseline: Array(repeating: 0, count: 12))
            case "f32le": .float32
            default: .csv
            }
        let source = SimulatorSource(
            simulator: simulator,
            header: try StreamHeader(
                streamID: streamID,
                sampleRateHz: rate,
                leads: StandardLead.allCases,
                format: sampleFormat
            )
        )
        try await StreamProducer.deliver(
            [source], pace: delivery.speed, socketPath: delivery.socket, maxSeconds: seconds,
            frameMilliseconds: delivery.frameMilliseconds)
    }
}
