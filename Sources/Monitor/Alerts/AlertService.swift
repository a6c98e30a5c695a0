import Alarms
import Logging
import ServiceLifecycle

/// Runs the ``AlarmEngine`` over everything the inference side and reloads report, and writes the events.
///
/// Inputs arrive on one `AsyncStream`, so windows, stream ends and reloads are applied in the order they were
/// sent and the engine has a single owner.
///
/// Graceful shutdown finishes the input stream, so that everything already sent is written before ``run()``
/// returns. The group shuts services down in reverse order and treats a service that returns before its turn
/// as a failure; listed before the inference service, this one gets its turn only after every worker has
/// drained and handed over its last results, so finishing the stream then loses nothing.
public struct AlertService: Service {
    private let rules: AlarmRules
    private let inputs: AsyncStream<AlarmInput>
    private let continuation: AsyncStream<AlarmInput>.Continuation
    private let output: AlertOutput
    private let counters: AlertCounters
    private let logger: Logger

    /// A service applying `inputs` to an engine with `rules`.
    ///
    /// - Parameters:
    ///   - rules: The rules at start-up.
    ///   - inputs: What happened, in order, and its continuation; finishing it ends ``run()``, as graceful
    ///     shutdown does.
    ///   - output: Where events go.
    ///   - counters: Updated after each input, for the status line.
    ///   - logger: Logs refused inputs and reloads.
    public init(
        rules: AlarmRules,
        inputs: (stream: AsyncStream<AlarmInput>, continuation: AsyncStream<AlarmInput>.Continuation),
        output: AlertOutput,
        counters: AlertCounters,
        logger: Logger
    ) {
        self.rules = rules
        (self.inputs, continuation) = inputs
        self.output = output
        self.counters = counters
        self.logger = logger
    }

    /// Applies inputs until the stream finishes (at graceful shutdown) or the task is cancelled.
    public func run() async {
        await withGracefulShutdownHandler {
            await applyInputs()
        } onGracefulShutdown: { [continuation] in
            continuation.finish()
        }
    }

    private func applyInputs() async {
        var engine = AlarmEngine(rules: rules)
        var activeAlarms = ActiveAlarmTally()
        for await input in inputs {
            if case .reload(let newRules) = input {
                logger.notice(
                    "alarm rules reloaded",
                    metadata: ["ecg.classes": "\(newRules.classRules.compactMap { $0 }.count)"]
                )
            }
            let events: [AlertEvent]
            do {
                events = try engine.apply(input)
            } catch {
                counters.reject()
                logger.warning("alarm input refused", metadata: ["ecg.error": "\(error)"])
                continue
            }
            activeAlarms.update(after: input, in: engine)
            output.retry()
            for event in events {
                output.emit(event)
            }
            switch input {
            case .classified(let stream, _, _, _, _, _), .faulty(let stream, _, _, _, _):
                counters.setHeartRate(engine.displayedHeartRate(stream: stream), stream: stream)
            case .ended(let stream, _):
                counters.removeHeartRate(stream: stream)
            case .acknowledge, .reload:
                break
            }
            counters.update(
                activeAlarms: activeAlarms.total(in: engine), emitted: events.count, delivery: output.statistics)
        }
        output.retry()
    }
}
