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
            case .text(let text): "\(Self.jsonString(name)):\(Self.jsonString(text))"
            case .number(let number): "\(Self.jsonString(name)):\(number)"
            }
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// `text` as a JSON string literal (RFC 8259 escapes).
    static func jsonString(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }
}
