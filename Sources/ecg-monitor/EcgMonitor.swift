import ArgumentParser

/// The `ecg-monitor` command: the daemon and its tools.
@main
struct EcgMonitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecg-monitor",
        abstract: "Watches live 12-lead ECG streams and raises alerts when a neural network sees an abnormality.",
        subcommands: [
            RunCommand.self, ClassifyCommand.self, BenchCommand.self, ReplayCommand.self, SimulateCommand.self,
            AlertsCommand.self, AnnotateCommand.self, EvaluateCommand.self,
        ]
    )
}
