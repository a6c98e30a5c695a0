/// Why the alarm engine refused an input, rules could not be resolved, or an alert entry could not be read.
public enum AlarmsError: Error, Equatable, CustomStringConvertible {
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
    /// A journal entry with one of our `MESSAGE_ID`s lacks a field or holds an unreadable value (nil: missing).
    case malformedAlertEntry(field: String, value: String?)

    /// A one-line message fit for the journal, naming the key, stream or field at fault.
    public var description: String {
        switch self {
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
        case .malformedAlertEntry(let field, let value):
            value.map { "alert journal entry has an unreadable \(field): \"\($0)\"" }
                ?? "alert journal entry lacks \(field)"
        }
    }
}
