import Synchronization

/// A counter a loop advances on every iteration, so the watchdog can tell it is alive.
///
/// Loops tick it on every pass, idle poll timeouts included (an idle loop is alive). A loop that ends on
/// purpose retires its heartbeat, so a clean drain during shutdown does not stop the watchdog pings.
public final class Heartbeat: Sendable {
    /// Names the loop in logs.
    public let name: String
    private let beats = Atomic<UInt64>(0)
    private let retired = Atomic<Bool>(false)

    /// A heartbeat for the loop called `name`.
    public init(name: String) {
        self.name = name
    }

    /// Records one pass of the loop. Lock-free; safe from any thread.
    public func beat() {
        beats.wrappingAdd(1, ordering: .relaxed)
    }

    /// The number of passes so far.
    public var count: UInt64 {
        beats.load(ordering: .relaxed)
    }

    /// Marks the loop as finished on purpose: from now on it counts as alive.
    public func retire() {
        retired.store(true, ordering: .relaxed)
    }

    /// Whether the loop has finished on purpose.
    public var isRetired: Bool {
        retired.load(ordering: .relaxed)
    }
}
