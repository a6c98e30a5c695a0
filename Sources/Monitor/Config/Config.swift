import Alarms

/// The daemon's configuration: `config/ecg-monitor.yaml` with environment overrides, validated.
///
/// ``Config/defaults`` equals the shipped file; ``Config/load(filePath:environment:)`` reads a file through
/// swift-configuration and rejects unknown keys and bad values, naming the key.
public struct Config: Sendable, Equatable {
    /// The model to run.
    public struct ModelFile: Sendable, Equatable {
        /// ONNX model file; a relative path is relative to the working directory.
        public var path: String
    }

    /// Where streams come from and how much each may hold.
    public struct Input: Sendable, Equatable {
        /// UNIX stream socket bound when the daemon is not socket-activated.
        public var socketPath: String
        /// Permission bits of a socket the daemon binds itself.
        public var socketMode: UInt32
        /// Also read one stream from standard input (development runs).
        public var stdin: Bool
        /// Streams served at once; further connections are refused.
        public var maxStreams: Int
        /// Bytes buffered per stream before its reader stops reading.
        public var maxBufferedBytes: Int
        /// No data for this long raises the "stream stalled" technical alarm.
        public var stallSeconds: Double
        /// A connection whose header line is not complete this long after connecting is closed.
        public var headerSeconds: Double
        /// Socket connections at once from one local user (peer uid); 0: three quarters of the connection limit.
        public var maxConnectionsPerUser: Int
        /// How far a live stream may run ahead of real time before it is read no faster than real time.
        public var liveLeadSeconds: Double
    }

    /// How a stream is cut into windows.
    public struct Windows: Sendable, Equatable {
        /// Window length, stream seconds.
        public var seconds: Double
        /// Step between window starts, stream seconds.
        public var hopSeconds: Double
    }

    /// The inference workers.
    public struct Inference: Sendable, Equatable {
        /// Worker threads; 0 means one per available core.
        public var workers: Int
        /// Windows classified in one forward pass at most.
        public var maxBatch: Int
    }

    /// Where alert events go.
    public enum AlertDestination: String, Sendable, Equatable, CaseIterable {
        /// The systemd journal only.
        case journal
        /// JSON lines on standard output only.
        case json
        /// Both.
        case both

        /// Whether events go to the journal.
        public var includesJournal: Bool { self != .json }
        /// Whether events go to standard output as JSON lines.
        public var includesJSON: Bool { self != .journal }
    }

    /// The alert outputs.
    public struct Alerts: Sendable, Equatable {
        /// Where alert events go.
        public var output: AlertDestination
        /// Whether vitals events also go to the journal (they always go to JSON lines).
        public var vitalsInJournal: Bool
    }

    /// The model to run.
    public var model: ModelFile
    /// Stream input.
    public var input: Input
    /// Windowing.
    public var windows: Windows
    /// Inference workers.
    public var inference: Inference
    /// Alert outputs.
    public var alerts: Alerts
    /// Finding alarms.
    public var alarms: AlarmSettings
    /// Technical alarms.
    public var technical: TechnicalAlarmSettings
    /// Heart-rate alarms and vitals.
    public var heartRate: HeartRateAlarmSettings

    /// The built-in configuration; equal to the shipped `config/ecg-monitor.yaml` (a test checks it).
    public static let defaults = Config(
        model: ModelFile(path: "models/ecg-incepse-all.onnx"),
        input: Input(
            socketPath: "/run/ecg-monitor/ingest.sock",
            socketMode: 0o660,
            stdin: false,
            maxStreams: 64,
            maxBufferedBytes: 1 << 20,
            stallSeconds: 5,
            headerSeconds: 5,
            maxConnectionsPerUser: 0,
            liveLeadSeconds: 2
        ),
        windows: Windows(seconds: 2.5, hopSeconds: 0.5),
        inference: Inference(workers: 0, maxBatch: 8),
        alerts: Alerts(output: .journal, vitalsInJournal: false),
        alarms: .defaults,
        technical: .defaults,
        heartRate: .defaults
    )
}
