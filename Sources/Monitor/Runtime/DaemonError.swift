/// Why the daemon or one of its commands could not do what was asked.
public enum DaemonError: Error, Equatable, CustomStringConvertible {
    /// The configuration file could not be read.
    case configFileUnreadable(path: String, reason: String)
    /// The configuration file is not a YAML mapping of known sections.
    case configSyntax(path: String, reason: String)
    /// A key in the configuration file is not one the daemon knows; `line` is 1-based.
    case unknownConfigKey(key: String, path: String, line: Int)
    /// An `ECG_MONITOR_` environment variable names no configuration key.
    case unknownEnvironmentVariable(name: String)
    /// A configuration value has the wrong type or is out of range.
    case badConfigValue(key: String, value: String, expected: String)
    /// A time given on the command line could not be read.
    case badTime(String)
    /// Alerts should go to the journal but no journald listens (entries would be dropped silently).
    case journalUnavailable(socketPath: String)
    /// The model cannot classify streams: metadata the stream pipeline needs is missing or does not fit it.
    case unusableModel(path: String, reason: String)

    /// A one-line message fit for the journal, naming the file, key or model at fault.
    public var description: String {
        switch self {
        case .configFileUnreadable(let path, let reason):
            "cannot read configuration file \(path): \(reason)"
        case .configSyntax(let path, let reason):
            "configuration file \(path) is not valid: \(reason)"
        case .unknownConfigKey(let key, let path, let line):
            "unknown configuration key \(key) (\(path), line \(line))"
        case .unknownEnvironmentVariable(let name):
            "environment variable \(name) names no configuration key"
        case .badConfigValue(let key, let value, let expected):
            "configuration key \(key): \"\(value)\" is not \(expected)"
        case .badTime(let text):
            "cannot read time \"\(text)\": use YYYY-MM-DD[ HH:MM[:SS]] (local time), @EPOCH-SECONDS or -N[s|min|h|d]"
        case .journalUnavailable(let socketPath):
            "alerts are configured for the journal but \(socketPath) does not exist (no journald); use --alerts json"
        case .unusableModel(let path, let reason):
            "model \(path) cannot classify streams: \(reason)"
        }
    }
}
