import Alarms
import ArgumentParser
import Glibc
import Logging
import Model
import Monitor
import Systemd

/// `ecg-monitor run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Watch ECG streams and raise alerts (the daemon).",
        discussion: """
            Streams arrive on the ingest socket (docs/protocol.md): the one systemd passes (ecg-monitor.socket), \
            else input.socket_path or --socket. With --stdin and no --socket, standard input is the only stream and \
            the daemon exits 0 once it ends and its last events are written. Settings: --config FILE (YAML, every \
            key in config/ecg-monitor.yaml), then ECG_MONITOR_* environment variables, then these options. SIGHUP \
            re-reads the alarm rules and thresholds; SIGTERM drains the windows in flight and exits. Logs go to \
            the journal under systemd, else to standard error. See docs/running.md.
            """
    )

    @Option(help: "Configuration file (YAML); default: the built-in values, which equal config/ecg-monitor.yaml.")
    var config: String?

    @Option(help: "UNIX socket to bind, instead of input.socket_path (ignored under socket activation).")
    var socket: String?

    @Flag(help: "Read one stream from standard input; without --socket it is the only input (development runs).")
    var stdin = false

    @Option(help: "Where alert events go: journal, json (JSON lines on standard output) or both.")
    var alerts: Config.AlertDestination?

    @Option(help: "ONNX model file, instead of model.path.")
    var model: String?

    @Flag(help: "Print the model's compiled plan (its fused layers, in the order they run) and exit.")
    var printPlan = false

    /// What the options set over the configuration.
    var overrides: RunOverrides {
        RunOverrides(socketPath: socket, readsStandardInput: stdin, alerts: alerts, modelPath: model)
    }

    func run() async throws {
        if printPlan {
            print(try await DaemonRuntime.planDump(configPath: config, overrides: overrides))
            return
        }
        // A reader of `--alerts json` that goes away must not kill the daemon: the write fails and is logged.
        signal(SIGPIPE, SIG_IGN)
        // Until the reload service traps SIGHUP, a hangup must not end the process.
        signal(SIGHUP, SIG_IGN)
        // Before anything else runs: a re-execution with OPENBLAS_CORETYPE set replaces the process.
        let blas = OpenBLASRelaunch.relaunchIfNeeded()
        LoggingSystem.bootstrap(Self.logHandler)
        let logger = Logger(label: "ecg-monitor")
        switch blas {
        case .notNeeded(let core),
            .alreadySet(_, let core) where core.recommendedCoreType == nil:
            logger.info("OpenBLAS kernels", metadata: ["ecg.blas_core": "\(core.coreName)"])
        case .alreadySet(let value, let core):
            // The operator's variable wins, but a stale one can cost a third of the throughput: say so.
            logger.warning(
                "OpenBLAS kernels below this CPU, chosen by the environment's \(OpenBLASRelaunch.variable)",
                metadata: [
                    "ecg.blas_core": "\(core.coreName)", "ecg.blas_coretype": "\(value)",
                    "ecg.recommended": "\(core.recommendedCoreType ?? "")",
                ]
            )
        case .failed(let errno, let core):
            logger.warning(
                "OpenBLAS runs kernels below this CPU; re-executing with better ones failed",
                metadata: [
                    "ecg.blas_core": "\(core.coreName)", "ecg.errno": "\(errno)",
                    "ecg.recommended": "\(core.recommendedCoreType ?? "")",
                ]
            )
        }
        do {
            let runtime = try await DaemonRuntime.start(configPath: config, overrides: overrides, logger: logger)
            try await runtime.run()
        } catch {
            logger.critical("ecg-monitor stopped: \(error)")
            throw ExitCode.failure
        }
    }

    /// The journal when standard error is connected to it (systemd sets `JOURNAL_STREAM` to its device and
    /// inode), else standard error; either way behind ``EscapingLogHandler``, as records carry client text.
    static func logHandler(label: String) -> any LogHandler {
        EscapingLogHandler(wrapping: sink(label: label))
    }

    private static func sink(label: String) -> any LogHandler {
        guard let stream = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else {
            return StreamLogHandler.standardError(label: label)
        }
        let parts = stream.split(separator: ":").compactMap { UInt64($0) }
        var status = stat()
        guard parts.count == 2, fstat(STDERR_FILENO, &status) == 0,
            UInt64(status.st_dev) == parts[0], UInt64(status.st_ino) == parts[1]
        else {
            return StreamLogHandler.standardError(label: label)
        }
        return JournalLogHandler(label: label, identifier: AlertEvent.syslogIdentifier)
    }
}
