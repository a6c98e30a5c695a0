import Logging

/// A swift-log backend that writes each log event to the journal as a structured entry.
///
/// Fields: `MESSAGE`, `PRIORITY` (from the level), `SYSLOG_IDENTIFIER`, `LOGGER` (the logger's label),
/// `CODE_FILE`, `CODE_LINE`, `CODE_FUNC`, `ERROR` when the event carries one, and one field per metadata key:
/// dotted lower-case keys become upper-case fields (`ecg.lead` → `ECG_LEAD`). If the journal refuses an entry
/// the line goes to standard error instead, so nothing is lost silently.
public struct JournalLogHandler: LogHandler {
    /// Metadata attached to every event of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Events below this level are dropped by the logger.
    public var logLevel: Logger.Level = .info
    /// Contributes metadata at the moment of logging.
    public var metadataProvider: Logger.MetadataProvider?

    private let label: String
    private let identifier: String
    private let writer: JournalWriter

    /// A handler for the logger labelled `label`.
    ///
    /// - Parameters:
    ///   - label: The logger's label, written as `LOGGER`.
    ///   - identifier: The `SYSLOG_IDENTIFIER`.
    ///   - writer: Where entries go.
    ///   - metadataProvider: Metadata added at the moment of logging.
    public init(
        label: String,
        identifier: String,
        writer: JournalWriter = JournalWriter(),
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.identifier = identifier
        self.writer = writer
        self.metadataProvider = metadataProvider
    }

    /// Metadata of this logger by key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one event.
    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", event.message.description),
            ("PRIORITY", "\(Self.syslogPriority(event.level))"),
            ("SYSLOG_IDENTIFIER", identifier),
            ("LOGGER", label),
            ("CODE_FILE", event.file),
            ("CODE_LINE", "\(event.line)"),
            ("CODE_FUNC", event.function),
        ]
        if let error = event.error {
            fields.append(("ERROR", "\(error)"))
        }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            guard let name = Self.fieldName(key) else { continue }
            fields.append((name, value.description))
        }
        do {
            try writer.send(fields)
        } catch {
            let line = "\(identifier)[\(event.level)]: \(event.message) (journal unavailable: \(error))\n"
            try? FileDescriptorOutput.standardError.write(line)
        }
    }

    /// syslog priority of a level: trace and debug 7, info 6, notice 5, warning 4, error 3, critical 2.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The journal field for a metadata key: upper case, other characters as `_`, no leading `_` or digit
    /// (journald reserves `_` fields), at most 64 characters; nil when nothing is left.
    static func fieldName(_ key: String) -> String? {
        let mapped = key.uppercased().map { character -> Character in
            character.isASCII && (character.isLetter || character.isNumber) ? character : "_"
        }
        let name = String(mapped.drop(while: { $0 == "_" || $0.isNumber }).prefix(64))
        return name.isEmpty ? nil : name
    }
}
