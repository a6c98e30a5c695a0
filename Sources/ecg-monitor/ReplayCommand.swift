import ArgumentParser
import Producers
import Stream

/// `ecg-monitor replay`: sends WFDB records in the ingest protocol, in real time or faster.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send WFDB records (formats 16, 212, MAT v4 with a byte offset) in the ingest protocol.",
        discussion: """
            Each RECORD is a .hea path or that path without the extension; its standard leads are sent as i16le \
            with the record's gains and baselines, other signals are left out. To standard output: one record, \
            one stream. To a socket: every record, --parallel times each, as concurrent streams.
            """
    )

    @Argument(help: "Records, as .hea paths or paths without extension.")
    var records: [String]

    @OptionGroup var delivery: DeliveryOptions

    @Option(
        name: .customLong("stream-id"),
        help: "Stream id; default: the record's name. Suffixed -1, -2 … when several streams are sent."
    )
    var streamID: String?

    @Flag(help: "Start over at the end of the record, forever; the sample index keeps counting.")
    var loop = false

    @Option(help: "Concurrent streams per record (socket only), for load tests.")
    var parallel = 1

    @Flag(
        help: """
            Pose as a live device: the header does not announce a recording, so an overloaded daemon keeps each \
            stream's newest window instead of reading slower (load tests).
            """
    )
    var live = false

    @Option(help: "Seconds of signal to send per stream, then end it; default: the whole record (forever with --loop).")
    var seconds: Double?

    func validate() throws {
        guard !records.isEmpty else { throw ValidationError("name at least one record") }
        guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1") }
        if let seconds, !(seconds > 0 && seconds.isFinite) { throw ValidationError("--seconds must be positive") }
        guard delivery.socket != nil || (records.count == 1 && parallel == 1) else {
            throw ValidationError(
                "standard output carries one stream: give one record and no --parallel, or use --socket"
            )
        }
    }

    func run() async throws {
        let sources = try RecordSource.streams(
            recordPaths: records, streamID: streamID, parallel: parallel, loops: loop, live: live)
        try await StreamProducer.deliver(
            sources, pace: delivery.speed, socketPath: delivery.socket, maxSeconds: seconds,
            frameMilliseconds: delivery.frameMilliseconds)
    }
}
