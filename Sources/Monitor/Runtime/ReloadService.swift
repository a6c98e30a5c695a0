import Logging
import ServiceLifecycle
import Systemd
import UnixSignals

/// Reloads on SIGHUP: `RELOADING=1`, the reload, then `READY=1`; streams keep running throughout.
///
/// A failed reload (say, a typo in the edited file) is logged and the rules in force stay: a daemon watching
/// patients must not stop because of a bad edit.
public struct ReloadService: Service {
    private let notifier: SystemdNotifier
    private let logger: Logger
    private let status: @Sendable () -> String
    private let reload: @Sendable () async throws -> Void

    /// A service calling `reload` on each SIGHUP.
    ///
    /// - Parameters:
    ///   - notifier: Told `RELOADING=1` before and `READY=1` after.
    ///   - logger: Logs each reload and its failure.
    ///   - status: The status line sent with `READY=1`.
    ///   - reload: Re-reads the configuration and hands the new rules on (e.g. as
    ///     ``AlertService/Input/reload(_:)``); throws to keep the old ones.
    public init(
        notifier: SystemdNotifier,
        logger: Logger,
        status: @escaping @Sendable () -> String,
        reload: @escaping @Sendable () async throws -> Void
    ) {
        self.notifier = notifier
        self.logger = logger
        self.status = status
        self.reload = reload
    }

    /// Waits for SIGHUP until graceful shutdown.
    public func run() async {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            do {
                try notifier.reloading()
            } catch {
                logger.warning("cannot notify systemd", metadata: ["ecg.error": "\(error)"])
            }
            do {
                try await reload()
                logger.notice("configuration reloaded")
            } catch {
                logger.error("reload failed; the configuration in force stays", metadata: ["ecg.error": "\(error)"])
            }
            do {
                try notifier.ready(status: status())
            } catch {
                logger.warning("cannot notify systemd", metadata: ["ecg.error": "\(error)"])
            }
        }
    }
}
