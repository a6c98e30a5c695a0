import Alarms
import Systemd

/// Reads the daemon's alert events back from the journal: the logic of `ecg-monitor alerts`.
///
/// Entries are selected by our four `MESSAGE_ID`s (and `ECG_STREAM` when a stream is given), so other
/// programs' entries and the daemon's own logs never show.
public struct AlertSubscriber: Sendable {
    /// Which journal to read.
    public var source: JournalReader.Source
    /// Only this stream's events, when set.
    public var stream: String?
    /// Only events at or after this wall-clock time (microseconds since the epoch), when set.
    public var sinceMicroseconds: UInt64?
    /// Keep waiting for new events after the existing ones; without ``sinceMicroseconds`` only new events show.
    public var follow: Bool
    /// Print JSON lines (as `--alerts json` writes them) instead of text.
    public var json: Bool

    /// A subscriber; see the properties.
    public init(
        source: JournalReader.Source = .local,
        stream: String? = nil,
        sinceMicroseconds: UInt64? = nil,
        follow: Bool = false,
        json: Bool = false
    ) {
        self.source = source
        self.stream = stream
        self.sinceMicroseconds = sinceMicroseconds
        self.follow = follow
        self.json = json
    }

    /// Reads events and hands each out as one line (no newline). Blocks: run it on a ``WorkerThread``.
    ///
    /// - Parameters:
    ///   - pollMicroseconds: With ``follow``, how long one wait for new entries lasts before `shouldStop` is
    ///     asked again.
    ///   - shouldStop: With ``follow``, asked between waits; true ends the run.
    ///   - problem: Receives entries that carry our `MESSAGE_ID` but cannot be read; they are skipped.
    ///   - line: Receives each event's line; throwing ends the run with that error.
    /// - Throws: ``SystemdError`` from the journal or from `line`.
    public func run(
        pollMicroseconds: UInt64 = 500_000,
        shouldStop: () -> Bool = { false },
        problem: (any Error) -> Void,
        line: (String) throws(SystemdError) -> Void
    ) throws(SystemdError) {
        let reader = try JournalReader(source: source)
        try reader.match("MESSAGE_ID", anyOf: AlertEvent.Kind.allCases.map(\.messageID))
        if let stream {
            try reader.match("ECG_STREAM", anyOf: [stream])
        }
        if let sinceMicroseconds {
            try reader.seek(realtimeMicroseconds: sinceMicroseconds)
        } else if follow {
            try reader.seekPastTail()
        } else {
            try reader.seekHead()
        }
        try drain(reader, problem: problem, line: line)
        guard follow else { return }
        while !shouldStop() {
            if try reader.wait(timeoutMicroseconds: pollMicroseconds) != .none {
                try drain(reader, problem: problem, line: line)
            }
        }
    }

    private func drain(
        _ reader: JournalReader,
        problem: (any Error) -> Void,
        line: (String) throws(SystemdError) -> Void
    ) throws(SystemdError) {
        while try reader.next() {
            let event: AlertEvent
            do {
                event = try AlertEvent(journalFields: try reader.fields())
            } catch {
                problem(error)
                continue
            }
            let time = try reader.realtimeMicroseconds()
            try line(
                json
                    ? event.jsonLine(timestampMicroseconds: time)
                    : "\(UTCTimestamp.iso8601(microseconds: time)) \(event.message)"
            )
        }
    }
}
