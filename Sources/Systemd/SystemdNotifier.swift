import CSystemd
import Glibc

/// Tells the service manager about the daemon's state over `NOTIFY_SOCKET`; does nothing without it.
///
/// Messages are the `sd_notify` protocol's `NAME=value` lines: `READY=1`, `STATUS=…`, `WATCHDOG=1`,
/// `RELOADING=1`, `STOPPING=1`.
public struct SystemdNotifier: Sendable {
    /// Whether `NOTIFY_SOCKET` was set when the notifier was made (otherwise every call is a no-op).
    public let isEnabled: Bool
    /// The interval systemd expects watchdog pings within (`WATCHDOG_USEC`), when the watchdog is on for this
    /// process; ping at half of it.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the environment.
    ///
    /// The corresponding C function is `sd_watchdog_enabled`.
    public init() {
        isEnabled = getenv("NOTIFY_SOCKET") != nil
        var microseconds: UInt64 = 0
        if sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 {
            watchdogInterval = .microseconds(Int64(clamping: microseconds))
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends one message of `NAME=value` lines.
    ///
    /// - Throws: ``SystemdError/systemCall(name:errno:)`` when `NOTIFY_SOCKET` is set but the message cannot be
    ///   sent.
    ///
    /// The corresponding C function is `sd_notify`.
    public func send(_ state: String) throws(SystemdError) {
        guard isEnabled else { return }
        let result = sd_notify(0, state)
        if result < 0 {
            throw .systemCall(name: "sd_notify", errno: -result)
        }
    }

    /// `READY=1`, with a status line: start-up is complete.
    public func ready(status: String) throws(SystemdError) {
        try send("READY=1\nSTATUS=\(Self.oneLine(status))")
    }

    /// `STATUS=`: one line shown by `systemctl status`.
    public func status(_ status: String) throws(SystemdError) {
        try send("STATUS=\(Self.oneLine(status))")
    }

    /// `WATCHDOG=1`: the daemon is alive.
    public func watchdog() throws(SystemdError) {
        try send("WATCHDOG=1")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (which `Type=notify-reload` requires): configuration is being
    /// reloaded; follow with ``ready(status:)``.
    public func reloading() throws(SystemdError) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec / 1000)
        try send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }

    /// `STOPPING=1`: shutdown has begun.
    public func stopping() throws(SystemdError) {
        try send("STOPPING=1")
    }

    /// A status must be a single line: the protocol separates fields by newlines.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
