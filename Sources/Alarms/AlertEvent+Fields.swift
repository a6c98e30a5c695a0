extension AlertEvent {
    /// The journal's `SYSLOG_IDENTIFIER` of everything the daemon writes.
    public static let syslogIdentifier = "ecg-monitor"

    /// A field value: text, or a number written without quotes in JSON.
    enum FieldValue: Equatable {
        case text(String)
        case number(String)

        var text: String {
            switch self {
            case .text(let text), .number(let text): text
            }
        }
    }

    /// The event's own fields in a fixed order, named in lower snake case (`window_start`).
    ///
    /// The journal field is `ECG_` + the name in upper case; the JSON key is the name. Numbers are written in
    /// their shortest exact form, so they read back to the same `Float`/`Double`.
    var fields: [(name: String, value: FieldValue)] {
        var fields: [(String, FieldValue)] = [("event", .text(kind.rawValue)), ("stream", .text(stream))]
        switch subject {
        case .finding(let code, let description):
            fields += [("class", .text(code)), ("class_description", .text(description))]
        case .technical(let condition, let lead):
            fields.append(("condition", .text(condition.rawValue)))
            if let lead {
                fields.append(("lead", .text(lead)))
            }
        case .heartRate(let condition):
            fields.append(("condition", .text(condition.rawValue)))
        case .vitals:
            break
        }
        fields.append(("priority", .text(priority.rawValue)))
        if let probability {
            fields.append(("probability", .number("\(probability)")))
        }
        if let threshold {
            fields.append(("threshold", .number("\(threshold)")))
        }
        if let heartRateBPM {
            fields.append(("heart_rate", .number("\(heartRateBPM)")))
        }
        fields += [("window_start", .number("\(windowStartSeconds)")), ("window_end", .number("\(windowEndSeconds)"))]
        if let reason {
            fields.append(("reason", .text(reason.rawValue)))
        }
        fields.append(("model", .text(model)))
        return fields
    }

    /// The journal entry: `MESSAGE`, `MESSAGE_ID`, `PRIORITY`, `SYSLOG_IDENTIFIER`, then the `ECG_*` fields.
    public var journalFields: [(name: String, value: String)] {
        [
            ("MESSAGE", message),
            ("MESSAGE_ID", kind.messageID),
            ("PRIORITY", "\(syslogPriority)"),
            ("SYSLOG_IDENTIFIER", Self.syslogIdentifier),
        ] + fields.map { ("ECG_" + $0.name.uppercased(), $0.value.text) }
    }

    /// Reads an event back from a journal entry's fields.
    ///
    /// - Parameter journalFields: The entry's fields by name; fields other than `ECG_*` are ignored.
    /// - Throws: ``AlarmsError/malformedAlertEntry(field:value:)`` naming the first missing or unreadable field.
    public init(journalFields: [String: String]) throws(AlarmsError) {
        func field(_ name: String) throws(AlarmsError) -> String {
            guard let value = journalFields["ECG_" + name] else {
                throw .malformedAlertEntry(field: "ECG_" + name, value: nil)
            }
            return value
        }
        func parsed<Value>(_ name: String, _ parse: (String) -> Value?) throws(AlarmsError) -> Value {
            let text = try field(name)
            guard let value = parse(text) else { throw .malformedAlertEntry(field: "ECG_" + name, value: text) }
            return value
        }
        func optional<Value>(_ name: String, _ parse: (String) -> Value?) throws(AlarmsError) -> Value? {
            guard journalFields["ECG_" + name] != nil else { return nil }
            return try parsed(name, parse)
        }
        let kind = try parsed("EVENT", Kind.init(rawValue:))
        let stream = try field("STREAM")
        let subject: Subject
        if journalFields["ECG_CLASS"] != nil {
            subject = .finding(code: try field("CLASS"), description: try field("CLASS_DESCRIPTION"))
        } else if kind == .vitals {
            subject = .vitals
        } else if let condition = journalFields["ECG_CONDITION"].flatMap(HeartRateCondition.init(rawValue:)) {
            subject = .heartRate(condition)
        } else {
            subject = .technical(
                try parsed("CONDITION", TechnicalCondition.init(rawValue:)),
                lead: journalFields["ECG_LEAD"]
            )
        }
        self.init(
            kind: kind,
            stream: stream,
            subject: subject,
            priority: try parsed("PRIORITY", AlarmPriority.init(rawValue:)),
            probability: try optional("PROBABILITY") { Float($0) },
            threshold: try optional("THRESHOLD") { Float($0) },
            windowStartSeconds: try parsed("WINDOW_START") { Double($0) },
            windowEndSeconds: try parsed("WINDOW_END") { Double($0) },
            reason: try optional("REASON", ClearReason.init(rawValue:)),
            heartRateBPM: try optional("HEART_RATE") { Double($0) },
            model: try field("MODEL")
        )
    }
}
