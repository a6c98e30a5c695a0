import Logging
import ServiceLifecycle

/// The service manager's side of the daemon: `READY=1` when the group starts, a `STATUS=` line, `WATCHDOG=1`
/// only while every registered loop is alive, `STOPPING=1` on the way out.
///
/// List it first in the `ServiceGroup` (shutdown walks the list backwards): it stops last, so pings go on
/// while the other services drain, as long as their loops still beat or have retired.
public struct SystemdService: Service {
    private let notifier: SystemdNotifier
    private let heartbeats: [Heartbeat]
    private let status: @Sendable () -> String
    private let statusInterval: Duration
    private let logger: Logger

    /// A service reporting to `notifier`.
    ///
    /// - Parameters:
    ///   - notifier: Where messages go.
    ///   - heartbeats: The loops that must all advance between two pings.
    ///   - statusInterval: How often `STATUS=` is refreshed when the watchdog does not tick faster.
    ///   - logger: Logs missed pings (which loop stalled) and notify failures.
    ///   - status: The current one-line status (streams, windows/s, alarms active).
    public init(
        notifier: SystemdNotifier,
        heartbeats: [Heartbeat],
        statusInterval: Duration = .seconds(5),
        logger: Logger,
        status: @escaping @Sendable () -> String
    ) {
        self.notifier = notifier
        self.heartbeats = heartbeats
        self.statusInterval = statusInterval
        self.logger = logger
        self.status = status
    }

    /// The tick: half the watchdog interval when the watchdog is on (as systemd recommends), else the status
    /// interval, whichever is shorter.
    public var tickInterval: Duration {
        guard let watchdog = notifier.watchdogInterval else { return statusInterval }
        return min(watchdog / 2, statusInterval)
    }

    /// Sends `READY=1`, then ticks until graceful shutdown, then sends `STOPPING=1`.
    ///
    /// - Important: Call it only once all fallible set-up is done: `READY=1` goes out first thing.
    public func run() async throws {
        notify("READY=1") { try notifier.ready(status: status()) }
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await tickUntilCancelled()
            }
        } onGracefulShutdown: {
            notify("STOPPING=1") { try notifier.stopping() }
        }
    }

    private func tickUntilCancelled() async {
        var check = HeartbeatCheck(heartbeats: heartbeats)
        var lastStatus = ""
        var stalledReported: [String] = []
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: tickInterval)
            } catch {
                return
            }
            let stalled = check.stalledSinceLastCheck()
            if notifier.watchdogInterval != nil {
                if stalled.isEmpty {
                    notify("WATCHDOG=1") { try notifier.watchdog() }
                } else if stalled != stalledReported {
                    logger.error(
                        "watchdog ping withheld: loops made no progress",
                        metadata: ["ecg.loops": .string(stalled.joined(separator: ","))]
                    )
                }
            }
            stalledReported = stalled
            let line = status()
            if line != lastStatus {
                lastStatus = line
                notify("STATUS=") { try notifier.status(line) }
            }
        }
    }

    private func notify(_ what: String, _ send: () throws -> Void) {
        do {
            try send()
        } catch {
            logger.warning("cannot notify systemd", metadata: ["ecg.message": .string(what), "ecg.error": "\(error)"])
        }
    }
}

/// Which heartbeats did not advance between two checks (retired ones never count as stalled).
struct HeartbeatCheck {
    private let heartbeats: [Heartbeat]
    private var lastCounts: [UInt64]

    init(heartbeats: [Heartbeat]) {
        self.heartbeats = heartbeats
        lastCounts = heartbeats.map(\.count)
    }

    /// The names of the heartbeats that neither advanced since the previous call nor retired.
    mutating func stalledSinceLastCheck() -> [String] {
        var stalled: [String] = []
        for (index, heartbeat) in heartbeats.enumerated() {
            let count = heartbeat.count
            if count == lastCounts[index] && !heartbeat.isRetired {
                stalled.append(heartbeat.name)
            }
            lastCounts[index] = count
        }
        return stalled
    }
}
