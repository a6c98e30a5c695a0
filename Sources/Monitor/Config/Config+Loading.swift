import Alarms
import Configuration
import Foundation

extension Config {
    /// Reads the configuration: `ECG_MONITOR_*` environment variables over the YAML file over ``defaults``.
    ///
    /// Map entries (`alarms.classes.CODE`, `alarms.thresholds.CODE`) replace the defaults' map as a whole when
    /// the file has that key; environment variables may override the entries of codes listed in the file (or in
    /// the defaults), e.g. `ECG_MONITOR_ALARMS_CLASSES_AFIB=off`.
    ///
    /// - Parameters:
    ///   - filePath: The YAML file, or nil to start from ``defaults``.
    ///   - environment: The process environment; only names starting with `ECG_MONITOR_` are read.
    /// - Throws: ``DaemonError`` naming the file, key or variable at fault: unreadable or malformed file, unknown
    ///   key or variable, wrong type or out-of-range value.
    public static func load(filePath: String?, environment: [String: String]) async throws(DaemonError) -> Config {
        let overrides = environment.filter { $0.key.hasPrefix(ConfigSchema.environmentPrefix) }
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: overrides).prefixKeys(with: ["ecg_monitor"])
        ]
        var classCodes = [
            "alarms.classes": Array(defaults.alarms.classes.keys),
            "alarms.thresholds": Array(defaults.alarms.thresholds.keys),
        ]
        if let filePath {
            let layout = try ConfigSchema.checkFile(yaml: try readText(filePath), path: filePath)
            classCodes.merge(layout.classCodes) { _, fromFile in fromFile }
            // swift-configuration refuses a YAML document without a top-level mapping; an empty file is fine here.
            if !layout.isEmpty {
                providers.append(try await yamlProvider(filePath))
            }
        }
        let alertingCodes = classCodes["alarms.classes", default: []]
        let thresholdEntries = Set(classCodes["alarms.thresholds", default: []])
        classCodes["alarms.thresholds"] = Array(thresholdEntries.union(alertingCodes))
        try ConfigSchema.checkEnvironment(overrides.keys, classCodes: classCodes)
        providers.append(InMemoryProvider(name: "defaults", values: defaults.configValues))

        let thresholdCodes = Set(classCodes["alarms.thresholds", default: []]).filter { code in
            thresholdEntries.contains(code)
                || overrides[ConfigSchema.environmentName(["alarms", "thresholds", code])] != nil
        }
        let values = ConfigValues(reader: ConfigReader(providers: providers))
        return try Config(values: values, classCodes: alertingCodes, thresholdCodes: thresholdCodes)
    }

    private init(
        values: ConfigValues,
        classCodes: [String],
        thresholdCodes: Set<String>
    ) throws(DaemonError) {
        model = ModelFile(path: try values.string("model.path", nonEmpty: true))
        input = Input(
            socketPath: try values.socketPath("input.socket_path"),
            socketMode: try values.octalMode("input.socket_mode"),
            stdin: try values.bool("input.stdin"),
            maxStreams: try values.int("input.max_streams", 1...4096),
            maxBufferedBytes: try values.int("input.max_buffered_bytes", 4096...(1 << 30)),
            stallSeconds: try values.double("input.stall_seconds", 0.1...3600)
        )
        let windowSeconds = try values.double("windows.seconds", 0.1...60)
        windows = Windows(
            seconds: windowSeconds,
            hopSeconds: try values.double("windows.hop_seconds", 0.01...windowSeconds)
        )
        inference = Inference(
            workers: try values.int("inference.workers", 0...256),
            maxBatch: try values.int("inference.max_batch", 1...1024)
        )
        alerts = Alerts(output: try values.choice("alerts.output"))
        var priorities: [String: AlarmPriority] = [:]
        for code in classCodes {
            let key = "alarms.classes.\(code)"
            let text = try values.string(key, components: ["alarms", "classes", code], nonEmpty: true)
            guard text != "off" else { continue }
            guard let priority = AlarmPriority(rawValue: text) else {
                throw .badConfigValue(key: key, value: text, expected: "one of high, medium, low, off")
            }
            priorities[code] = priority
        }
        var thresholds: [String: Double] = [:]
        for code in thresholdCodes.sorted() {
            let components = ["alarms", "thresholds", code]
            let threshold = try values.double(components.joined(separator: "."), components: components, 0.001...1)
            thresholds[code] = threshold
        }
        alarms = AlarmSettings(
            aggregation: try values.choice("alarms.aggregation"),
            spanSeconds: try values.double("alarms.span_seconds", 0...3600),
            confirmCount: try values.int("alarms.confirm_count", 1...1000),
            clearCount: try values.int("alarms.clear_count", 1...1000),
            hysteresis: try values.double("alarms.hysteresis", 0...0.5),
            classes: priorities,
            thresholds: thresholds
        )
        let flatLine = try values.double("technical.flat_line_mv", 0.0001...10)
        technical = TechnicalAlarmSettings(
            flatLineMillivolts: flatLine,
            saturationMillivolts: try values.double("technical.saturation_mv", flatLine.nextUp...1000),
            raiseCount: try values.int("technical.raise_count", 1...1000),
            clearCount: try values.int("technical.clear_count", 1...1000)
        )
    }

    private static func readText(_ path: String) throws(DaemonError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .configFileUnreadable(path: path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .configSyntax(path: path, reason: "not UTF-8 text")
        }
        return text
    }

    private static func yamlProvider(_ path: String) async throws(DaemonError) -> any ConfigProvider {
        let location = InMemoryProvider(values: ["filePath": ConfigValue(.string(path), isSecret: false)])
        do {
            return try await FileProvider<YAMLSnapshot>(config: ConfigReader(provider: location))
        } catch {
            throw .configSyntax(path: path, reason: "\(error)")
        }
    }

    /// Every key of this configuration with its value, as swift-configuration values (the defaults' provider).
    var configValues: [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigContent] = [:]
        for (key, value) in scalarValues {
            values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = value
        }
        for (code, priority) in alarms.classes {
            values[AbsoluteConfigKey(["alarms", "classes", code])] = .string(priority.rawValue)
        }
        for (code, threshold) in alarms.thresholds {
            values[AbsoluteConfigKey(["alarms", "thresholds", code])] = .double(threshold)
        }
        return values.mapValues { ConfigValue($0, isSecret: false) }
    }

    /// Every single-value key, dotted, with its value here: the one list of the keys, from which the file's and
    /// the environment's checks take theirs (``ConfigSchema/scalarKeys``).
    var scalarValues: [String: ConfigContent] {
        [
            "model.path": .string(model.path),
            "input.socket_path": .string(input.socketPath),
            "input.socket_mode": .string("0" + String(input.socketMode, radix: 8)),
            "input.stdin": .bool(input.stdin),
            "input.max_streams": .int(input.maxStreams),
            "input.max_buffered_bytes": .int(input.maxBufferedBytes),
            "input.stall_seconds": .double(input.stallSeconds),
            "windows.seconds": .double(windows.seconds),
            "windows.hop_seconds": .double(windows.hopSeconds),
            "inference.workers": .int(inference.workers),
            "inference.max_batch": .int(inference.maxBatch),
            "alerts.output": .string(alerts.output.rawValue),
            "alarms.aggregation": .string(alarms.aggregation.rawValue),
            "alarms.span_seconds": .double(alarms.spanSeconds),
            "alarms.confirm_count": .int(alarms.confirmCount),
            "alarms.clear_count": .int(alarms.clearCount),
            "alarms.hysteresis": .double(alarms.hysteresis),
            "technical.flat_line_mv": .double(technical.flatLineMillivolts),
            "technical.saturation_mv": .double(technical.saturationMillivolts),
            "technical.raise_count": .int(technical.raiseCount),
            "technical.clear_count": .int(technical.clearCount),
        ]
    }
}
