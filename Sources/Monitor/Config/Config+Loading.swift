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
            providers.append(YAMLValuesProvider(providerName: filePath, scalars: layout.scalars))
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
        var config = Config.defaults
        for key in Config.keys {
            try key.read(values, into: &config)
        }
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
        config.alarms.classes = priorities
        config.alarms.thresholds = thresholds
        self = config
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

    /// Every key of this configuration with its value, as swift-configuration values (the defaults' provider).
    var configValues: [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigContent] = [:]
        for key in Config.keys {
            values[AbsoluteConfigKey(key.name.split(separator: ".").map(String.init))] = key.value(in: self)
        }
        for (code, priority) in alarms.classes {
            values[AbsoluteConfigKey(["alarms", "classes", code])] = .string(priority.rawValue)
        }
        for (code, threshold) in alarms.thresholds {
            values[AbsoluteConfigKey(["alarms", "thresholds", code])] = .double(threshold)
        }
        return values.mapValues { ConfigValue($0, isSecret: false) }
    }

}
