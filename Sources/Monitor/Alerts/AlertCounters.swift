import Synchronization

/// Counters the ``AlertService`` keeps for the status line; readable from any thread.
public final class AlertCounters: Sendable {
    private let active = Atomic<Int>(0)
    private let heartRates = Mutex<[String: Double?]>([:])
    private let delivered = Mutex(AlertOutput.Statistics())
    private let emitted = Atomic<UInt64>(0)
    private let rejected = Atomic<UInt64>(0)

    /// Zeroed counters.
    public init() {}

    /// Alarms raised now, technical included.
    public var activeAlarms: Int { active.load(ordering: .relaxed) }
    /// Events written since start.
    public var eventsEmitted: UInt64 { emitted.load(ordering: .relaxed) }
    /// Windows or requests the alarm engine refused (bad probabilities, windows out of order, unknown alarms).
    public var inputsRejected: UInt64 { rejected.load(ordering: .relaxed) }

    /// What did not reach its destination, as of the last input applied.
    public var delivery: AlertOutput.Statistics { delivered.withLock { $0 } }

    func update(activeAlarms: Int, emitted count: Int, delivery: AlertOutput.Statistics) {
        delivered.withLock { $0 = delivery }
        active.store(activeAlarms, ordering: .relaxed)
        emitted.wrappingAdd(UInt64(count), ordering: .relaxed)
    }

    /// The displayed heart rate of every open stream (nil: unknown), by stream id.
    public var heartRatesByStream: [String: Double?] { heartRates.withLock { $0 } }

    func setHeartRate(_ bpm: Double?, stream: String) {
        heartRates.withLock { $0[stream] = .some(bpm) }
    }

    func removeHeartRate(stream: String) {
        heartRates.withLock { _ = $0.removeValue(forKey: stream) }
    }

    func reject() {
        rejected.wrappingAdd(1, ordering: .relaxed)
    }
}
