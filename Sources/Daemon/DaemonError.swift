import Glibc

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
    /// The configuration names a class the model does not have.
    case unknownAlarmClass(key: String, code: String)
    /// A window's probabilities cannot be used (wrong count, not in 0...1).
    case badProbabilities(stream: String, reason: String)
    /// A window's times are not finite, negative, or end before they start.
    case badWindowTimes(stream: String, startSeconds: Double, endSeconds: Double)
    /// A window ended before the previous window of the same stream.
    case windowOutOfOrder(stream: String, endSeconds: Double, previousEndSeconds: Double)
    /// There is no active alarm to acknowledge.
    case noSuchAlarm(stream: String, subject: String)
    /// A system or libsystemd call failed; `errno` is the positive error number.
    case systemCall(name: String, errno: Int32)
    /// A time given on the command line could not be read.
    case badTime(String)
    /// Alerts should go to the journal but no journald listens (entries would be dropped silently).
    case journalUnavailable(socketPath: String)
    /// A journal entry with one of our `MESSAGE_ID`s lacks a field or holds an unreadable value (nil: missing).
    case malformedAlertEntry(field: String, value: String?)
    /// The model cannot classify streams: metadata the stream pipeline needs is missing or does not fit it.
    case unusableModel(path: String, reason: String)

    /// A one-line message fit for the journal, naming the file, key, stream or call at fault.
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
        case .unknownAlarmClass(let key, let code):
            "configuration key \(key): the model has no class \(code)"
        case .badProbabilities(let stream, let reason):
            "stream \(stream): unusable probabilities: \(reason)"
        case .badWindowTimes(let stream, let start, let end):
            "stream \(stream): window from \(start) s to \(end) s is not a time span"
        case .windowOutOfOrder(let stream, let end, let previousEnd):
            "stream \(stream): window ending at \(end) s arrived after one ending at \(previousEnd) s"
        case .noSuchAlarm(let stream, let subject):
            "stream \(stream): no active alarm \(subject) to acknowledge"
        case .systemCall(let name, let errno):
            "\(name) failed: \(DaemonError.errorText(errno)) (errno \(errno))"
        case .badTime(let text):
            "cannot read time \"\(text)\": use YYYY-MM-DD[ HH:MM[:SS]] (local time), @EPOCH-SECONDS or -N[s|min|h|d]"
        case .journalUnavailable(let socketPath):
            "alerts are configured for the journal but \(socketPath) does not exist (no journald); use --alerts json"
        case .malformedAlertEntry(let field, let value):
            value.map { "alert journal entry has an unreadable \(field): \"\($0)\"" }
                ?? "alert journal entry lacks \(field)"
        case .unusableModel(let path, let reason):
            "model \(path) cannot classify streams: \(reason)"
        }
    }

    /// The C library's text for an error number.
    static func errorText(_ errno: Int32) -> String {
        String(cString: strerror(errno))
    }
}
