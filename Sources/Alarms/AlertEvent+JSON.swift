import Stream

extension AlertEvent {
    /// The event as one line of JSON (no trailing newline), for `--alerts json` and `alerts --json`.
    ///
    /// Keys: `time` (UTC, ISO 8601 with microseconds), `message_id`, `message`, then the fields of the journal
    /// entry without their `ECG_` prefix, in lower case (`stream`, `event`, `class`, `window_start`, …).
    /// Probabilities, thresholds and window bounds are JSON numbers.
    ///
    /// - Parameter timestampMicroseconds: Wall-clock time of the event, microseconds since the Unix epoch.
    public func jsonLine(timestampMicroseconds: UInt64) -> String {
        var pairs: [(String, FieldValue)] = [
            ("time", .text(UTCTimestamp.iso8601(microseconds: timestampMicroseconds))),
            ("message_id", .text(kind.messageID)),
            ("message", .text(message)),
        ]
        pairs += fields
        let members = pairs.map { name, value in
            switch value {
            case .text(let text): "\(JSONValue.quoted(name)):\(JSONValue.quoted(text))"
            case .number(let number): "\(JSONValue.quoted(name)):\(number)"
            }
        }
        return "{" + members.joined(separator: ",") + "}"
    }

}
