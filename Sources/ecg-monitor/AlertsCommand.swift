import ArgumentParser
import Monitor
import Synchronization
import Systemd

/// `ecg-monitor alerts`: prints the daemon's alert events from the journal, optionally following new ones.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Prints alert events (raised, cleared, technical) from the systemd journal.",
        discussion: """
            Reads entries with the alert MESSAGE_IDs through libsystemd. The same entries with journalctl: \
            journalctl -t ecg-monitor MESSAGE_ID=3bbf4294ef16468b9e7cfcb878630f9b (see docs/alerts.md).
            """
    )

    @Flag(name: .shortAndLong, help: "Keep printing new events as they are written.")
    var follow = false

    @Option(help: "Only events of this stream id.")
    var stream: String?

    @Option(
        parsing: .unconditional,
        help: "Only events since: YYYY-MM-DD[ HH:MM[:SS]] (local), @EPOCH-SECONDS, or -N[s|min|h|d]."
    )
    var since: String?

    @Flag(help: "Print JSON lines, as `run --alerts json` writes them.")
    var json = false

    @Option(help: "Read the journal files in this directory instead of the system journal.")
    var directory: String?

    @Option(help: "Read this journal namespace (LogNamespace=) instead of the default one.")
    var namespace: String?

    func validate() throws {
        if directory != nil && namespace != nil {
            throw ValidationError("--directory and --namespace exclude each other")
        }
    }

    func run() async throws {
        let source: JournalReader.Source =
            if let directory { .directory(directory) } else if let namespace { .namespace(namespace) } else { .local }
        let subscriber = AlertSubscriber(
            source: source,
            stream: stream,
            sinceMicroseconds: try since.map { text throws(DaemonError) in
                try WallClock.parse(text, nowMicroseconds: WallClock.nowMicroseconds())
            },
            follow: follow,
            json: json
        )
        let failure = Mutex<(any Error)?>(nil)
        // sd_journal_wait blocks; it must not hold one of the cooperative pool's threads.
        let reader = try WorkerThread(name: "alerts") {
            do {
                try subscriber.run(problem: { problem in
                    try? FileDescriptorOutput.standardError.write("ecg-monitor alerts: skipped: \(problem)\n")
                }) { line throws(SystemdError) in
                    try FileDescriptorOutput.standardOutput.write(line + "\n")
                }
            } catch {
                failure.withLock { $0 = error }
            }
        }
        await reader.join()
        if let error = failure.withLock({ $0 }) {
            throw error
        }
    }
}
