import Logging
import Stream

/// A log handler that escapes control and invisible characters in the message and every metadata value before
/// handing the record on, so that client-supplied text (a lead name, a stream id, a CSV value) can neither forge
/// a log line nor hide in one, in whichever sink the record ends (standard error or the journal's `MESSAGE`).
public struct EscapingLogHandler: LogHandler {
    /// The sink that writes the escaped records.
    public private(set) var wrapped: any LogHandler

    /// Escapes what reaches `wrapped`.
    public init(wrapping wrapped: any LogHandler) {
        self.wrapped = wrapped
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue.mapValues(Self.escaped) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue.map(Self.escaped) }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(event.message.description.escapedForLog(quotesAndBackslashes: false))"
        event.metadata = event.metadata?.mapValues(Self.escaped)
        wrapped.log(event: event)
    }

    private static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(text.escapedForLog(quotesAndBackslashes: false))
        case .stringConvertible(let convertible):
            .string(convertible.description.escapedForLog(quotesAndBackslashes: false))
        case .array(let values): .array(values.map(escaped))
        case .dictionary(let values): .dictionary(values.mapValues(escaped))
        }
    }
}
