import Alarms
import Foundation
import Logging
import Model
import NIOCore
import NIOPosix
import ServiceLifecycle
import Stream
import Systemd
import UnixSignals

/// Everything `ecg-monitor run` runs: set up in ``start(configPath:overrides:logger:)``, before `READY=1`
/// (configuration, model, workspaces and threads, the input socket or standard input, the alert destination),
/// then run as one `ServiceGroup`: `[systemd, reload, alerts, inference, ingest]`.
///
/// Shutdown walks that list backwards: ingest stops first (its streams end), the inference workers drain the
/// windows in flight, the alert side writes their events, systemd hears `STOPPING=1` last. With standard input
/// as the only input, its end starts that same graceful shutdown.
package final class DaemonRuntime: Sendable {
    /// Results the inference workers hand to the alarm side that may wait in its input at once; beyond, the
    /// oldest are dropped and counted (`alarm inputs lost` in the status; the alarm side applies one in
    /// microseconds, so only a stalled journal gets there).
    static let alertInputCapacity = 65_536
    /// The longest a worker or event loop goes without beating its heartbeat.
    static let maximumPollInterval = Duration.milliseconds(500)

    private let group: ServiceGroup
    private let eventLoopHeartbeats: EventLoopHeartbeats
    private let ingestCounters: IngestCounters
    private let status: DaemonStatus
    private let inferenceCounters: InferenceCounters
    private let alertCounters: AlertCounters
    private let logger: Logger

    private init(
        group: ServiceGroup,
        eventLoopHeartbeats: EventLoopHeartbeats,
        ingestCounters: IngestCounters,
        status: DaemonStatus,
        inferenceCounters: InferenceCounters,
        alertCounters: AlertCounters,
        logger: Logger
    ) {
        self.group = group
        self.eventLoopHeartbeats = eventLoopHeartbeats
        self.ingestCounters = ingestCounters
        self.status = status
        self.inferenceCounters = inferenceCounters
        self.alertCounters = alertCounters
        self.logger = logger
    }

    /// Does every fallible step of start-up, in order, and returns the services ready to run.
    ///
    /// - Parameters:
    ///   - configPath: The YAML file, or nil for the built-in defaults.
    ///   - overrides: The command line's settings over the file and the environment.
    ///   - logger: The daemon's logger.
    /// - Throws: The first error, naming the key, file, model value or socket at fault; threads already
    ///   started are stopped first.
    package static func start(
        configPath: String?,
        overrides: RunOverrides,
        logger: Logger
    ) async throws -> DaemonRuntime {
        let environment = ProcessInfo.processInfo.environment
        let config = overrides.applied(to: try await Config.load(filePath: configPath, environment: environment))
        let binding = try ModelBinding(config: config)
        for warning in binding.model.warnings {
            logger.warning("\(warning)", metadata: ["ecg.model": "\(binding.name)"])
        }
        let rules = try binding.rules(config)
        let output = AlertOutput(destination: config.alerts.output, vitalsInJournal: config.alerts.vitalsInJournal)
        try output.checkDestinations()
        let workers = config.inference.workers == 0 ? System.coreCount : config.inference.workers
        let queue = try WindowQueue(
            capacity: config.input.maxStreams,
            windowValueCount: binding.pipeline.windowValueCount,
            shardCount: workers
        )
        let notifier = SystemdNotifier()
        let pollInterval = min(maximumPollInterval, (notifier.watchdogInterval ?? .seconds(10)) / 8)
        let (alertInputs, alertContinuation) = AsyncStream.makeStream(
            of: AlarmInput.self,
            bufferingPolicy: .bufferingNewest(alertInputCapacity)
        )
        let inferenceCounters = InferenceCounters(workerCount: workers)
        let inference = try await InferenceService.start(
            model: binding.model,
            queue: queue,
            maxBatch: config.inference.maxBatch,
            windowSamples: binding.pipeline.windowSamples,
            pollInterval: pollInterval,
            results: alertContinuation,
            counters: inferenceCounters,
            logger: logger
        )
        let ingestCounters = IngestCounters()
        let ingest: IngestService
        do {
            ingest = try await IngestService.start(
                configuration: try ingestConfiguration(config, overrides: overrides, pipeline: binding.pipeline),
                queue: queue,
                counters: ingestCounters,
                logger: logger
            )
        } catch {
            await inference.stop()
            throw error
        }
        let alertCounters = AlertCounters()
        let status = DaemonStatus(
            queue: queue,
            inference: inferenceCounters,
            alerts: alertCounters,
            ingest: ingestCounters
        )
        let eventLoopHeartbeats = EventLoopHeartbeats(
            group: MultiThreadedEventLoopGroup.singleton,
            interval: pollInterval
        )
        let reloadConfig: @Sendable () async throws -> Void = {
            let fresh = overrides.applied(to: try await Config.load(filePath: configPath, environment: environment))
            let newRules = try binding.rules(fresh)
            let pending = config.keysNeedingRestart(comparedWith: fresh)
            if !pending.isEmpty {
                logger.warning(
                    "changed settings take effect at the next start only",
                    metadata: ["ecg.keys": "\(pending.joined(separator: ","))"]
                )
            }
            alertContinuation.yield(.reload(newRules))
        }
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: SystemdService(
                    notifier: notifier,
                    heartbeats: inference.heartbeats + eventLoopHeartbeats.heartbeats,
                    logger: logger,
                    status: status.line
                )
            ),
            .init(
                service: ReloadService(notifier: notifier, logger: logger, status: status.line, reload: reloadConfig)
            ),
            .init(
                service: AlertService(
                    rules: rules,
                    inputs: (alertInputs, alertContinuation),
                    output: output,
                    counters: alertCounters,
                    logger: logger
                )
            ),
            .init(service: inference),
            // Standard input ending (or breaking) shuts the rest down gracefully, so its last events are written.
            .init(
                service: ingest,
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            ),
        ]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // Below the unit's TimeoutStopSec=20s together, so systemd never has to kill a draining daemon.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(15)
        groupConfiguration.maximumCancellationDuration = .seconds(3)
        logger.notice(
            "ecg-monitor ready",
            metadata: [
                "ecg.model": "\(binding.name)", "ecg.workers": "\(workers)",
                "ecg.alerts": "\(config.alerts.output.rawValue)",
                "ecg.input":
                    "\(ingest.boundSocketPath ?? (overrides.standardInputOnly ? "stdin" : "inherited socket"))",
            ]
        )
        return DaemonRuntime(
            group: ServiceGroup(configuration: groupConfiguration),
            eventLoopHeartbeats: eventLoopHeartbeats,
            ingestCounters: ingestCounters,
            status: status,
            inferenceCounters: inferenceCounters,
            alertCounters: alertCounters,
            logger: logger
        )
    }

    /// Runs the services until shutdown, then logs what was done.
    ///
    /// - Throws: The error of the service that failed (a broken stream on standard input, say), after the
    ///   others have shut down gracefully.
    package func run() async throws {
        defer { eventLoopHeartbeats.cancel() }
        do {
            try await group.run()
        } catch {
            logSummary()
            throw error
        }
        logSummary()
    }

    private func logSummary() {
        let counts = inferenceCounters.total
        var metadata: Logger.Metadata = [
            "ecg.windows_classified": "\(counts.classified)", "ecg.windows_faulty": "\(counts.faulty)",
            "ecg.events": "\(alertCounters.eventsEmitted)", "ecg.refused": "\(ingestCounters.refusedConnections)",
            "ecg.alarm_inputs_lost": "\(counts.droppedInputs)",
            "ecg.windows_dropped": "\(status.queue.statistics.skipped)",
        ]
        if let p50 = counts.latency.percentile(0.5), let p99 = counts.latency.percentile(0.99) {
            metadata["ecg.latency_p50"] = "\(DaemonStatus.milliseconds(p50))"
            metadata["ecg.latency_p99"] = "\(DaemonStatus.milliseconds(p99))"
        }
        logger.notice("ecg-monitor stopped", metadata: metadata)
    }

    /// The compiled plan of the model the configuration names, as `run --print-plan` prints it: a line naming
    /// the model and its shape, then one numbered line per fused layer in execution order.
    ///
    /// - Throws: The configuration's or the model's error, as ``start(configPath:overrides:logger:)`` would.
    package static func planDump(configPath: String?, overrides: RunOverrides) async throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let config = overrides.applied(to: try await Config.load(filePath: configPath, environment: environment))
        let plan = try CompiledModel(contentsOf: config.model.path).plan
        let layers = plan.summary.enumerated().map { index, line in
            let number = String(index + 1)
            return String(repeating: " ", count: max(0, 4 - number.count)) + number + "  " + line
        }
        let header =
            "\(config.model.path): \(plan.inputChannels) leads → \(plan.outputCount) logits, \(layers.count) layers"
        return ([header] + layers).joined(separator: "\n")
    }

    /// The ingest side's settings from the configuration and the command line.
    static func ingestConfiguration(
        _ config: Config,
        overrides: RunOverrides,
        pipeline: PipelineConfiguration
    ) throws -> IngestConfiguration {
        var ingest = IngestConfiguration(pipeline: pipeline)
        ingest.inheritedSocketDescriptor = try SocketActivation.listeningDescriptor()
        ingest.socketPath = overrides.standardInputOnly ? nil : config.input.socketPath
        ingest.socketMode = config.input.socketMode
        ingest.readsStandardInput = config.input.stdin
        ingest.maxStreams = config.input.maxStreams
        ingest.idleTimeoutSeconds = config.input.stallSeconds
        ingest.headerTimeoutSeconds = config.input.headerSeconds
        ingest.liveLeadSeconds = config.input.liveLeadSeconds
        ingest.maxConnectionsPerUser =
            config.input.maxConnectionsPerUser == 0 ? nil : config.input.maxConnectionsPerUser
        ingest.decoderLimits.bufferBytes = config.input.maxBufferedBytes
        guard ingest.decoderLimits.bufferBytes >= ingest.decoderLimits.largestFrameBytes else {
            throw DaemonError.badConfigValue(
                key: "input.max_buffered_bytes",
                value: "\(config.input.maxBufferedBytes)",
                expected: "at least \(ingest.decoderLimits.largestFrameBytes) (the largest frame)"
            )
        }
        return ingest
    }
}
