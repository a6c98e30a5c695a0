import Alarms
import Configuration

/// One single-value configuration key: its dotted name, how it is read into a ``Config`` (type and range
/// checked), and its value in a configuration.
///
/// ``Config/keys`` is the one list of them: loading reads them in its order (a range may depend on a key read
/// before it), the defaults' provider is built from it, and the file's and environment's checks take their known
/// keys from it.
struct ConfigEntry: Sendable {
    /// The dotted name, as in the YAML file (`input.max_streams`).
    let name: String
    private let reader: @Sendable (ConfigValues, String, inout Config) throws(DaemonError) -> Void
    private let writer: @Sendable (Config) -> ConfigContent

    init(
        _ name: String,
        read: @escaping @Sendable (ConfigValues, String, inout Config) throws(DaemonError) -> Void,
        value: @escaping @Sendable (Config) -> ConfigContent
    ) {
        self.name = name
        self.reader = read
        self.writer = value
    }

    /// Reads the key from `values` into `config`.
    ///
    /// - Throws: ``DaemonError/badConfigValue(key:value:expected:)`` naming the key.
    func read(_ values: ConfigValues, into config: inout Config) throws(DaemonError) {
        try reader(values, name, &config)
    }

    /// The key's value in `config`.
    func value(in config: Config) -> ConfigContent {
        writer(config)
    }
}

extension Config {
    /// Every single-value key, in reading order; `alarms.classes.CODE` and `alarms.thresholds.CODE` are maps,
    /// read by ``load(filePath:environment:)`` itself.
    static let keys: [ConfigEntry] = [
        ConfigEntry("model.path") { values, key, config throws(DaemonError) in
            config.model.path = try values.string(key, nonEmpty: true)
        } value: {
            .string($0.model.path)
        },
        ConfigEntry("input.socket_path") { values, key, config throws(DaemonError) in
            config.input.socketPath = try values.socketPath(key)
        } value: {
            .string($0.input.socketPath)
        },
        ConfigEntry("input.socket_mode") { values, key, config throws(DaemonError) in
            config.input.socketMode = try values.octalMode(key)
        } value: {
            .string("0" + String($0.input.socketMode, radix: 8))
        },
        ConfigEntry("input.stdin") { values, key, config throws(DaemonError) in
            config.input.stdin = try values.bool(key)
        } value: {
            .bool($0.input.stdin)
        },
        ConfigEntry("input.max_streams") { values, key, config throws(DaemonError) in
            config.input.maxStreams = try values.int(key, 1...4096)
        } value: {
            .int($0.input.maxStreams)
        },
        ConfigEntry("input.max_buffered_bytes") { values, key, config throws(DaemonError) in
            config.input.maxBufferedBytes = try values.int(key, 4096...(1 << 30))
        } value: {
            .int($0.input.maxBufferedBytes)
        },
        ConfigEntry("input.stall_seconds") { values, key, config throws(DaemonError) in
            config.input.stallSeconds = try values.double(key, 0.1...3600)
        } value: {
            .double($0.input.stallSeconds)
        },
        ConfigEntry("input.header_seconds") { values, key, config throws(DaemonError) in
            config.input.headerSeconds = try values.double(key, 0.1...600)
        } value: {
            .double($0.input.headerSeconds)
        },
        ConfigEntry("input.max_connections_per_user") { values, key, config throws(DaemonError) in
            config.input.maxConnectionsPerUser = try values.int(key, 0...8192)
        } value: {
            .int($0.input.maxConnectionsPerUser)
        },
        ConfigEntry("input.live_lead_seconds") { values, key, config throws(DaemonError) in
            config.input.liveLeadSeconds = try values.double(key, 0.5...3600)
        } value: {
            .double($0.input.liveLeadSeconds)
        },
        ConfigEntry("windows.seconds") { values, key, config throws(DaemonError) in
            config.windows.seconds = try values.double(key, 0.1...60)
        } value: {
            .double($0.windows.seconds)
        },
        ConfigEntry("windows.hop_seconds") { values, key, config throws(DaemonError) in
            config.windows.hopSeconds = try values.double(key, 0.01...config.windows.seconds)
        } value: {
            .double($0.windows.hopSeconds)
        },
        ConfigEntry("inference.workers") { values, key, config throws(DaemonError) in
            config.inference.workers = try values.int(key, 0...256)
        } value: {
            .int($0.inference.workers)
        },
        ConfigEntry("inference.max_batch") { values, key, config throws(DaemonError) in
            config.inference.maxBatch = try values.int(key, 1...1024)
        } value: {
            .int($0.inference.maxBatch)
        },
        ConfigEntry("alerts.output") { values, key, config throws(DaemonError) in
            config.alerts.output = try values.choice(key)
        } value: {
            .string($0.alerts.output.rawValue)
        },
        ConfigEntry("alarms.aggregation") { values, key, config throws(DaemonError) in
            config.alarms.aggregation = try values.choice(key)
        } value: {
            .string($0.alarms.aggregation.rawValue)
        },
        ConfigEntry("alarms.span_seconds") { values, key, config throws(DaemonError) in
            config.alarms.spanSeconds = try values.double(key, 0...3600)
        } value: {
            .double($0.alarms.spanSeconds)
        },
        ConfigEntry("alarms.confirm_count") { values, key, config throws(DaemonError) in
            config.alarms.confirmCount = try values.int(key, 1...1000)
        } value: {
            .int($0.alarms.confirmCount)
        },
        ConfigEntry("alarms.clear_count") { values, key, config throws(DaemonError) in
            config.alarms.clearCount = try values.int(key, 1...1000)
        } value: {
            .int($0.alarms.clearCount)
        },
        ConfigEntry("alarms.hysteresis") { values, key, config throws(DaemonError) in
            config.alarms.hysteresis = try values.double(key, 0...0.5)
        } value: {
            .double($0.alarms.hysteresis)
        },
        ConfigEntry("technical.flat_line_mv") { values, key, config throws(DaemonError) in
            config.technical.flatLineMillivolts = try values.double(key, 0.0001...10)
        } value: {
            .double($0.technical.flatLineMillivolts)
        },
        ConfigEntry("technical.saturation_mv") { values, key, config throws(DaemonError) in
            let flatLine = config.technical.flatLineMillivolts
            config.technical.saturationMillivolts = try values.double(key, flatLine.nextUp...1000)
        } value: {
            .double($0.technical.saturationMillivolts)
        },
        ConfigEntry("technical.raise_count") { values, key, config throws(DaemonError) in
            config.technical.raiseCount = try values.int(key, 1...1000)
        } value: {
            .int($0.technical.raiseCount)
        },
        ConfigEntry("technical.clear_count") { values, key, config throws(DaemonError) in
            config.technical.clearCount = try values.int(key, 1...1000)
        } value: {
            .int($0.technical.clearCount)
        },
        ConfigEntry("heart_rate.alarms") { values, key, config throws(DaemonError) in
            config.heartRate.enabled = try values.bool(key)
        } value: {
            .bool($0.heartRate.enabled)
        },
        // The limits are read in an order that lets each range keep them ordered: extreme brady < brady < tachy
        // < extreme tachy.
        ConfigEntry("heart_rate.brady_bpm") { values, key, config throws(DaemonError) in
            config.heartRate.bradycardiaBPM = try values.double(key, 20...120)
        } value: {
            .double($0.heartRate.bradycardiaBPM)
        },
        ConfigEntry("heart_rate.tachy_bpm") { values, key, config throws(DaemonError) in
            config.heartRate.tachycardiaBPM = try values.double(key, config.heartRate.bradycardiaBPM.nextUp...250)
        } value: {
            .double($0.heartRate.tachycardiaBPM)
        },
        ConfigEntry("heart_rate.extreme_brady_bpm") { values, key, config throws(DaemonError) in
            config.heartRate.extremeBradycardiaBPM = try values.double(
                key,
                15...config.heartRate.bradycardiaBPM.nextDown
            )
        } value: {
            .double($0.heartRate.extremeBradycardiaBPM)
        },
        ConfigEntry("heart_rate.extreme_tachy_bpm") { values, key, config throws(DaemonError) in
            config.heartRate.extremeTachycardiaBPM = try values.double(
                key,
                config.heartRate.tachycardiaBPM.nextUp...300
            )
        } value: {
            .double($0.heartRate.extremeTachycardiaBPM)
        },
        ConfigEntry("heart_rate.hysteresis_bpm") { values, key, config throws(DaemonError) in
            let gap = config.heartRate.tachycardiaBPM - config.heartRate.bradycardiaBPM
            config.heartRate.hysteresisBPM = try values.double(key, 0...(gap / 2).nextDown)
        } value: {
            .double($0.heartRate.hysteresisBPM)
        },
        ConfigEntry("heart_rate.confirm_count") { values, key, config throws(DaemonError) in
            config.heartRate.confirmCount = try values.int(key, 1...100)
        } value: {
            .int($0.heartRate.confirmCount)
        },
        ConfigEntry("heart_rate.network_rate_classes_yield") { values, key, config throws(DaemonError) in
            config.heartRate.networkRateClassesYield = try values.bool(key)
        } value: {
            .bool($0.heartRate.networkRateClassesYield)
        },
        ConfigEntry("heart_rate.vitals_seconds") { values, key, config throws(DaemonError) in
            config.heartRate.vitalsIntervalSeconds = try values.double(key, 0...3600)
        } value: {
            .double($0.heartRate.vitalsIntervalSeconds)
        },
        ConfigEntry("alerts.vitals_in_journal") { values, key, config throws(DaemonError) in
            config.alerts.vitalsInJournal = try values.bool(key)
        } value: {
            .bool($0.alerts.vitalsInJournal)
        },
    ]
}
