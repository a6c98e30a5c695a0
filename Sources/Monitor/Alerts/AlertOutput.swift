import Alarms
import Glibc
import Synchronization
import Systemd

/// Sends alert events where the configuration says: the journal, JSON lines, or both; vitals events go to the
/// journal only when asked, as one entry per stream every few seconds would crowd out the alarms there.
///
/// No event is lost to an outage. An event the journal cannot take (journald stopped, restarting, its socket
/// full) is written at once to standard error as a JSON line, so the alarm is seen, and queued; the queue is sent
/// in order, ahead of any newer event, as soon as the journal takes entries again (tried with every event and
/// every ``retry()``), so every event reaches the journal once and in order. The queue holds
/// ``journalQueueCapacity`` events; past that the oldest are dropped from it (they went to standard error) and
/// counted. An entry the journal refuses for another reason than being unreachable is dropped after its line
/// on standard error. A JSON-line reader that went away (a closed pipe) is reported once, loudly, on standard
/// error; monitoring, and the journal with `both`, go on.
public final class AlertOutput: Sendable {
    /// Events kept for the journal during an outage, at most.
    public static let journalQueueCapacity = 10_000

    /// What did not reach its destination, for the status line.
    public struct Statistics: Sendable, Equatable {
        /// Events waiting for the journal now.
        public var journalQueued = 0
        /// Events dropped from the journal queue (full) or refused by the journal; each went to standard error.
        public var journalDropped: UInt64 = 0
        /// JSON lines that could not be written (the reader is gone).
        public var linesUndelivered: UInt64 = 0
    }

    private struct State {
        /// Journal entries not yet sent, oldest first, from `head` on.
        var queue: [[(name: String, value: String)]] = []
        var head = 0
        var statistics = Statistics()
        var linesFailureReported = false

        var pending: Int { queue.count - head }

        mutating func enqueue(_ fields: [(name: String, value: String)]) {
            if pending >= AlertOutput.journalQueueCapacity {
                head += 1
                statistics.journalDropped &+= 1
            }
            queue.append(fields)
            if head > queue.count / 2 {
                queue.removeFirst(head)
                head = 0
            }
            statistics.journalQueued = pending
        }
    }

    private let destination: Config.AlertDestination
    private let vitalsInJournal: Bool
    private let journal: JournalWriter
    private let lines: FileDescriptorOutput
    private let errors: FileDescriptorOutput
    private let state = Mutex(State())

    /// An output to `destination`.
    ///
    /// - Parameters:
    ///   - destination: `journal`, `json` or `both`.
    ///   - vitalsInJournal: Whether vitals events go to the journal too (with the journal among the destinations).
    ///   - journal: The journal writer.
    ///   - lines: Where JSON lines go (standard output by default).
    ///   - errors: Where undelivered journal events and delivery problems are written (standard error).
    public init(
        destination: Config.AlertDestination,
        vitalsInJournal: Bool = false,
        journal: JournalWriter = JournalWriter(),
        lines: FileDescriptorOutput = .standardOutput,
        errors: FileDescriptorOutput = .standardError
    ) {
        self.destination = destination
        self.vitalsInJournal = vitalsInJournal
        self.journal = journal
        self.lines = lines
        self.errors = errors
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

    /// What did not reach its destination so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Writes one event to every destination; what cannot be delivered now is handled as the type describes.
    ///
    /// - Parameter timestampMicroseconds: The event's wall-clock time for the JSON line, microseconds since the
    ///   epoch; nil for now. The journal stamps its own.
    public func emit(_ event: AlertEvent, timestampMicroseconds: UInt64? = nil) {
        let time = timestampMicroseconds ?? WallClock.nowMicroseconds()
        if destination.includesJournal && (event.kind != .vitals || vitalsInJournal) {
            state.withLock { state in
                flushQueue(&state)
                guard state.pending > 0 || !send(event.journalFields, state: &state) else { return }
                if state.pending == 0 {
                    report("journal unavailable: alert events are queued for it and written here meanwhile")
                }
                state.enqueue(event.journalFields)
                report("alert event not yet in the journal: " + event.jsonLine(timestampMicroseconds: time))
            }
        }
        if destination.includesJSON {
            do {
                try lines.write(event.jsonLine(timestampMicroseconds: time) + "\n")
            } catch {
                state.withLock { state in
                    state.statistics.linesUndelivered &+= 1
                    guard !state.linesFailureReported else { return }
                    state.linesFailureReported = true
                    report(
                        "ALERT EVENTS ARE NOT DELIVERED as JSON lines on standard output (\(error)): its reader is "
                            + "gone; monitoring continues"
                            + (destination.includesJournal ? " and events still go to the journal" : "")
                    )
                }
            }
        }
    }

    /// Sends the queued journal events if the journal takes entries again.
    public func retry() {
        state.withLock { state in
            guard state.pending > 0 else { return }
            flushQueue(&state)
            if state.pending == 0 { report("journal reachable again: every queued alert event was sent") }
        }
    }

    /// Sends queued entries in order until the journal refuses one.
    private func flushQueue(_ state: inout State) {
        while state.pending > 0, send(state.queue[state.head], state: &state) {
            state.head += 1
        }
        if state.pending == 0 {
            state.queue.removeAll(keepingCapacity: true)
            state.head = 0
        }
        state.statistics.journalQueued = state.pending
    }

    /// Sends one entry: true when it is done with (sent, or refused for good and dropped), false when the journal
    /// is unreachable and the entry should wait.
    private func send(_ fields: [(name: String, value: String)], state: inout State) -> Bool {
        do {
            try journal.send(fields)
            return true
        } catch {
            guard case .systemCall(_, let code) = error, !Self.outageErrors.contains(code) else { return false }
            state.statistics.journalDropped &+= 1
            report("the journal refused an alert event (\(error)); it was dropped after its line here")
            return true
        }
    }

    /// What libsystemd reports while journald is stopped, restarting or behind.
    private static let outageErrors: Set<Int32> = [ECONNREFUSED, ENOENT, EAGAIN, ENOBUFS, ENOTCONN, EPIPE, ECONNRESET]

    private func report(_ line: String) {
        try? errors.write("ecg-monitor: " + line + "\n")
    }
}
