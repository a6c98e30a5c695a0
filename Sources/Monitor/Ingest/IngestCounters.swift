import Synchronization

/// What the ingest side counts that the window queue does not see, for the status line; readable from any
/// thread.
final class IngestCounters: Sendable {
    private let refused = Atomic<UInt64>(0)
    private let acceptFailures = Atomic<UInt64>(0)

    /// Zeroed counters.
    init() {}

    /// Connections turned away before a stream opened (limits, bad or duplicate headers, shutdown).
    var refusedConnections: UInt64 { refused.load(ordering: .relaxed) }

    /// `accept` calls that failed (descriptors or memory exhausted); each is followed by a second's back-off.
    var failedAccepts: UInt64 { acceptFailures.load(ordering: .relaxed) }

    /// Counts one refused connection.
    func recordRefusal() {
        refused.wrappingAdd(1, ordering: .relaxed)
    }

    /// Counts one failed `accept`.
    func failAccept() {
        acceptFailures.wrappingAdd(1, ordering: .relaxed)
    }
}
