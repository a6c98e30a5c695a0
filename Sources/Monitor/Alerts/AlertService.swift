import Alarms
import Logging
import ServiceLifecycle

/// Runs the ``AlarmEngine`` over everything the inference and ingest sides report, and writes the events.
///
/// Inputs arrive on one `AsyncStream`, so windows, stream ends and reloads are applied in the order they were
/// sent and the engine has a single owner.
public struct AlertService: Service {
    /// One thing that happened, for the alarm engine.
    public enum Input: Sendable {
        /// A window was classified: probabilities in model output order, and what it was classified despite
        /// (masked leads, windows lost before it).
        case classified(
            stream: String,
            startSeconds: Double,
            endSeconds: Double,
            probabilities: [Float],
            flags: TechnicalFlags = TechnicalFlags()
        )
        /// A window was not classified because of these technical faults.
        case faulty(stream: String, startSeconds: Double, endSeconds: Double, flags: TechnicalFlags)
        /// No data arrived on the stream for the stall timeout.
        case stalled(stream: String)
        /// The stream closed; `expected` when its end was announced.
        case ended(stream: String, expected: Bool)
        /// A clinician acknowledged an alarm (class code, or `stream-ended-unexpectedly`).
        case acknowledge(stream: String, code: String)
        /// New rules after SIGHUP.
        case reload(AlarmRules)
    }

    private let rules: AlarmRules
    private let inputs: AsyncStream<Input>
    private let output: AlertOutput
    private let counters: AlertCounters
    private let logger: Logger

    /// A service applying `inputs` to an engine with `rules`.
    ///
    /// - Parameters:
    ///   - rules: The rules at start-up.
    ///   - inputs: What happened, in order; finish it to end ``run()``.
    ///   - output: Where events go.
    ///   - counters: Updated after each input, for the status line.
    ///   - logger: Logs refused inputs and output failures.
    public init(
        rules: AlarmRules,
        inputs: AsyncStream<Input>,
        output: AlertOutput,
        counters: AlertCounters,
        logger: Logger
    ) {
        self.rules = rules
        self.inputs = inputs
        self.output = output
        self.counters = counters
        self.logger = logger
    }

    /// Applies inputs until the stream finishes (or the task is cancelled).
    ///
    /// - Important: Graceful shutdown does not stop it: the inference side drains its in-flight windows, sends
    ///   their results, and finishes the stream; every event is written before `run()` returns.
    public func run() async {
        var engine = AlarmEngine(rules: rules)
        for await input in inputs {
            let events: [AlertEvent]
            do {
                events = try apply(input, to: &engine)
            } catch {
                counters.reject()
                logger.warning("alarm input refused", metadata: ["ecg.error": "\(error)"])
                continue
            }
            for event in events {
                do {
                    try output.emit(event)
                } catch {
                    logger.error(
                        "alert event not written",
                        metadata: [
                            "ecg.stream": .string(event.stream), "ecg.event": .string(event.message),
                            "ecg.error": "\(error)",
                        ]
                    )
                }
            }
            counters.update(activeAlarms: engine.activeAlarmCount, emitted: events.count)
        }
    }

    private func apply(_ input: Input, to engine: inout AlarmEngine) throws(AlarmsError) -> [AlertEvent] {
        switch input {
        case .classified(let stream, let start, let end, let probabilities, let flags):
            return try engine.classify(
                stream: stream,
                startSeconds: start,
                endSeconds: end,
                probabilities: probabilities,
                flags: flags
            )
        case .faulty(let stream, let start, let end, let flags):
            return try engine.skip(stream: stream, startSeconds: start, endSeconds: end, flags: flags)
        case .stalled(let stream):
            return engine.stalled(stream: stream)
        case .ended(let stream, let expected):
            return engine.ended(stream: stream, expected: expected)
        case .acknowledge(let stream, let code):
            return try engine.acknowledge(stream: stream, code: code)
        case .reload(let newRules):
            logger.notice(
                "alarm rules reloaded",
                metadata: ["ecg.classes": "\(newRules.classRules.compactMap { $0 }.count)"]
            )
            return engine.reload(newRules)
        }
    }
}
