import Alarms
import Systemd

/// Sends alert events where the configuration says: the journal, JSON lines, or both; vitals events go to the
/// journal only when asked, as one entry per stream every few seconds would crowd out the alarms there.
public struct AlertOutput: Sendable {
    private let destination: Config.AlertDestination
    private let vitalsInJournal: Bool
    private let journal: JournalWriter
    private let lines: FileDescriptorOutput

    /// An output to `destination`.
    ///
    /// - Parameters:
    ///   - destination: `journal`, `json` or `both`.
    ///   - vitalsInJournal: Whether vitals events go to the journal too (with the journal among the destinations).
    ///   - journal: The journal writer.
    ///   - lines: Where JSON lines go (standard output by default).
    public init(
        destination: Config.AlertDestination,
        vitalsInJournal: Bool = false,
        journal: JournalWriter = JournalWriter(),
        lines: FileDescriptorOutput = .standardOutput
    ) {
        self.destination = destination
        self.vitalsInJournal = vitalsInJournal
        self.journal = journal
        self.lines = lines
    }

    /// Checks that events can reach their destination: with the journal among them, that a journald socket
    /// exists (libsystemd would otherwise drop them silently). Call it at start-up, before `READY=1`.
    ///
    /// - Throws: ``DaemonError/journalUnavailable(socketPath:)``.
    public func checkDestinations() throws(DaemonError) {
        if destination.includesJournal && !journal.isJournalAvailable {
            throw .journalUnavailable(socketPath: JournalWriter.socketPath)
        }
    }

    /// Writes one event to every destination, trying each even when another fails.
    ///
    /// - Parameter timestampMicroseconds: The event's wall-clock time for the JSON line, microseconds since the
    ///   epoch; nil for now. The journal stamps its own.
    /// - Throws: The first destination's error, after trying all.
    public func emit(_ event: AlertEvent, timestampMicroseconds: UInt64? = nil) throws(SystemdError) {
        var failure: SystemdError?
        if destination.includesJournal && (event.kind != .vitals || vitalsInJournal) {
            do {
                try journal.send(event.journalFields)
            } catch {
                failure = error
            }
        }
        if destination.includesJSON {
            do {
                try lines.write(
                    event.jsonLine(timestampMicroseconds: timestampMicroseconds ?? WallClock.nowMicroseconds()) + "\n"
                )
            } catch {
                failure = failure ?? error
            }
        }
        if let failure {
            throw failure
        }
    }
}
