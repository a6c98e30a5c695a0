/// What `ecg-monitor run`'s options set over the configuration, applied at start and again on every reload.
package struct RunOverrides: Sendable, Equatable {
    /// `--socket`: the socket to bind.
    package var socketPath: String?
    /// `--stdin`: read standard input; the only input unless a socket is given too.
    package var readsStandardInput = false
    /// `--alerts`.
    package var alerts: Config.AlertDestination?
    /// `--model`.
    package var modelPath: String?

    /// Overrides with these values; nil or false leaves the configuration's.
    package init(
        socketPath: String? = nil,
        readsStandardInput: Bool = false,
        alerts: Config.AlertDestination? = nil,
        modelPath: String? = nil
    ) {
        self.socketPath = socketPath
        self.readsStandardInput = readsStandardInput
        self.alerts = alerts
        self.modelPath = modelPath
    }

    /// Whether standard input is the only input (`--stdin` without `--socket`), whatever the file says.
    package var standardInputOnly: Bool { readsStandardInput && socketPath == nil }

    /// `config` with these overrides.
    package func applied(to config: Config) -> Config {
        var config = config
        if let socketPath { config.input.socketPath = socketPath }
        if readsStandardInput { config.input.stdin = true }
        if let alerts { config.alerts.output = alerts }
        if let modelPath { config.model.path = modelPath }
        return config
    }
}
