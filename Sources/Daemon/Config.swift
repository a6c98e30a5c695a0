/// The daemon's configuration: `config/ecg-monitor.yaml` with environment overrides, validated.
///
/// ``Config/defaults`` equals the shipped file; ``Config/load(filePath:environment:)`` reads a file through
/// swift-configuration and rejects unknown keys and bad values, naming the key.
public struct Config: Sendable, Equatable {
    /// The model to run.
    public struct Model: Sendable, Equatable {
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
    public enum AlertOutput: String, Sendable, Equatable, CaseIterable {
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
        public var output: AlertOutput
    }

    /// How windows' probabilities are combined over the aggregation span.
    public enum Aggregation: String, Sendable, Equatable, CaseIterable {
        /// The largest probability of the windows in the span (how the model's thresholds were fitted).
        case max
        /// The mean probability of the windows in the span.
        case mean
    }

    /// The finding alarms' rules.
    public struct Alarms: Sendable, Equatable {
        /// How probabilities are combined over the span.
        public var aggregation: Aggregation
        /// Windows that lie entirely within this many stream seconds before the newest window's end count.
        public var spanSeconds: Double
        /// Consecutive evaluations at or above the threshold that raise an alarm.
        public var confirmCount: Int
        /// Consecutive evaluations below threshold − hysteresis that clear an alarm.
        public var clearCount: Int
        /// Probability margin below the threshold that clearing needs.
        public var hysteresis: Double
        /// The classes that alert, by SCP code, with their priority.
        public var classes: [String: AlarmPriority]
        /// Thresholds replacing the model's, by SCP code.
        public var thresholds: [String: Double]
    }

    /// The technical alarms' limits and debounce.
    public struct Technical: Sendable, Equatable {
        /// A lead whose peak-to-peak amplitude in a window is below this (mV) is flat.
        public var flatLineMillivolts: Double
        /// A sample whose magnitude reaches this (mV) is saturated.
        public var saturationMillivolts: Double
        /// Consecutive faulty windows that raise a window-based technical alarm.
        public var raiseCount: Int
        /// Consecutive clean windows that clear it.
        public var clearCount: Int
    }

    /// The model to run.
    public var model: Model
    /// Stream input.
    public var input: Input
    /// Windowing.
    public var windows: Windows
    /// Inference workers.
    public var inference: Inference
    /// Alert outputs.
    public var alerts: Alerts
    /// Finding alarms.
    public var alarms: Alarms
    /// Technical alarms.
    public var technical: Technical

    /// The built-in configuration; equal to the shipped `config/ecg-monitor.yaml` (a test checks it).
    public static let defaults = Config(
        model: Model(path: "models/ecg-incepse-all.onnx"),
        input: Input(
            socketPath: "/run/ecg-monitor/ingest.sock",
            socketMode: 0o660,
            stdin: false,
            maxStreams: 64,
            maxBufferedBytes: 1 << 20,
            stallSeconds: 5
        ),
        windows: Windows(seconds: 2.5, hopSeconds: 0.5),
        inference: Inference(workers: 0, maxBatch: 8),
        alerts: Alerts(output: .journal),
        alarms: Alarms(
            aggregation: .max,
            spanSeconds: 10,
            confirmCount: 3,
            clearCount: 5,
            hysteresis: 0.05,
            classes: defaultAlarmClasses,
            thresholds: [:]
        ),
        technical: Technical(flatLineMillivolts: 0.02, saturationMillivolts: 10, raiseCount: 2, clearCount: 2)
    )

    /// The PTB-XL "all" classes that alert by default, with their priority; docs/alarms.md gives the reasons.
    ///
    /// Rhythm and acute-ischaemia findings a bedside monitor acts on, kept only where the shipped model can be
    /// trusted with them: at least 50 training positives (so its threshold was fitted on more than a handful of
    /// validation cases) and a specificity of at least 0.85 on the test fold at that threshold (so at most about
    /// one record in seven raises it falsely). Resting-ECG morphology and normal statements never alert.
    public static let defaultAlarmClasses: [String: AlarmPriority] = [
        // Acute subendocardial injury: immediate response.
        "INJAS": .high, "INJAL": .high,
        // Arrhythmias and conduction changes that need prompt treatment decisions.
        "AFIB": .medium, "AFLT": .medium, "CLBBB": .medium, "LNGQT": .medium,
        // Infarction and ischaemia patterns: to assess promptly.
        "ASMI": .medium, "ALMI": .medium, "ILMI": .medium, "LMI": .medium,
        "ISC_": .medium, "ISCAS": .medium, "ISCIL": .medium,
        // Rate and ectopy: worth knowing, rarely urgent alone.
        "STACH": .low, "SBRAD": .low, "PVC": .low, "BIGU": .low, "WPW": .low,
    ]
}
