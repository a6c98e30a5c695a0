import Beats

/// Turns per-window probabilities, technical flags and heart-rate readings into alarm transitions, per stream × class.
///
/// Pure: no I/O, no clock (time is stream time, from the windows). Each call touches one stream's state only
/// and returns the events it caused, one per transition, in a fixed order (technical before findings, then
/// by lead / model output order).
///
/// Rules, per stream and alerting class (see docs/alarms.md):
/// - aggregate: the max (or mean) probability of the classified windows lying within the last
///   ``AlarmRules/spanSeconds`` of stream time;
/// - raise after ``AlarmRules/confirmCount`` consecutive evaluations with aggregate ≥ threshold;
/// - clear after ``AlarmRules/clearCount`` consecutive evaluations with aggregate < threshold − hysteresis;
/// - `high` alarms latch: once raised they stay raised when the condition ends, until ``acknowledge(stream:code:)``
///   or the stream ends; an alarm acknowledged while its condition holds clears like a non-latching one;
/// - a window with a technical fault is not classified (``skip(stream:startSeconds:endSeconds:flags:)``): finding
///   alarms keep their state and counts, technical alarms are debounced over consecutive windows;
/// - heart rate: each window's reading drives at most one heart-rate alarm per stream (asystole, extreme or
///   plain brady- or tachycardia, see ``HeartRateAlarmSettings``); while the stream has a measured rate the
///   network's rate classes can yield to it.
public struct AlarmEngine: Sendable {
    /// Streams that ended unexpectedly whose alarm is kept, at most this many (the oldest is forgotten).
    public static let lostStreamCapacity = 1024

    /// The rules in force.
    public internal(set) var rules: AlarmRules
    var streams: [String: StreamAlarmState] = [:]
    /// Streams whose "ended unexpectedly" alarm is active, with the last window seen, oldest first.
    var lostStreams: [(stream: String, window: (startSeconds: Double, endSeconds: Double))] = []

    /// An engine with no streams.
    public init(rules: AlarmRules) {
        self.rules = rules
    }

    /// Streams with state (that have sent a window or stalled and not ended).
    public var streamCount: Int { streams.count }

    /// The heart rate `stream` displays now (bpm, 0 in asystole), or nil while unknown or for an unknown stream.
    public func displayedHeartRate(stream: String) -> Double? {
        streams[stream]?.heartRate.flatMap(AlertEvent.displayedRate)
    }

    /// Alarms currently raised, over all streams, technical included.
    public var activeAlarmCount: Int {
        streams.values.reduce(lostStreams.count) { $0 + $1.activeAlarmCount(rules: rules) }
    }

    // MARK: - Inputs

    /// Applies one input: the engine's single entry point for the daemon.
    ///
    /// A stalled stream raises "stream stalled" before it ends; a stream that did not end as expected raises
    /// "stream ended unexpectedly" (see ``ended(stream:expected:)``).
    ///
    /// - Returns: The transitions, one event each, in order.
    /// - Throws: ``AlarmsError`` for a window or acknowledgement the engine refuses; the state is then unchanged.
    public mutating func apply(_ input: AlarmInput) throws(AlarmsError) -> [AlertEvent] {
        switch input {
        case .classified(let stream, let start, let end, let probabilities, let flags, let heartRate):
            return try classify(
                stream: stream,
                startSeconds: start,
                endSeconds: end,
                probabilities: probabilities,
                flags: flags,
                heartRate: heartRate
            )
        case .faulty(let stream, let start, let end, let flags, let heartRate):
            return try skip(stream: stream, startSeconds: start, endSeconds: end, flags: flags, heartRate: heartRate)
        case .ended(let stream, .stalled):
            return stalled(stream: stream) + ended(stream: stream, expected: false)
        case .ended(let stream, let ending):
            return ended(stream: stream, expected: ending == .expected)
        case .acknowledge(let stream, let code):
            return try acknowledge(stream: stream, code: code)
        case .reload(let newRules):
            return reload(newRules)
        }
    }

    // MARK: - Windows

    /// Evaluates one classified window.
    ///
    /// - Parameters:
    ///   - stream: The stream's id.
    ///   - startSeconds: Window start, stream seconds.
    ///   - endSeconds: Window end, stream seconds; not before the previous window's end.
    ///   - probabilities: One per model output, in output order, each in 0...1.
    ///   - flags: What the window was classified despite: masked leads (off, saturated), windows lost before it.
    ///   - heartRate: The stream's heart rate as the window completed, if measured.
    /// - Returns: The transitions, one event each.
    /// - Throws: ``AlarmsError/badProbabilities(stream:reason:)``, ``AlarmsError/badWindowTimes(stream:startSeconds:endSeconds:)``
    ///   or ``AlarmsError/windowOutOfOrder(stream:endSeconds:previousEndSeconds:)``; the stream's state is then
    ///   unchanged.
    public mutating func classify(
        stream: String,
        startSeconds: Double,
        endSeconds: Double,
        probabilities: [Float],
        flags: TechnicalFlags = TechnicalFlags(),
        heartRate: HeartRateReading? = nil
    ) throws(AlarmsError) -> [AlertEvent] {
        guard probabilities.count == rules.classCount else {
            throw .badProbabilities(
                stream: stream,
                reason: "\(probabilities.count) values for a model with \(rules.classCount) classes"
            )
        }
        if let index = probabilities.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw .badProbabilities(stream: stream, reason: "output \(index) is \(probabilities[index])")
        }
        var events = try observeWindow(
            stream: stream,
            startSeconds: startSeconds,
            endSeconds: endSeconds,
            flags: flags,
            heartRate: heartRate
        )
        var state = streams[stream, default: StreamAlarmState()]
        let rateMeasured = state.heartRate.map { $0.beatsPerMinute != nil || $0.asystole } ?? false
        state.remember(
            .init(startSeconds: startSeconds, endSeconds: endSeconds, probabilities: probabilities),
            spanSeconds: rules.spanSeconds
        )
        for (index, rule) in rules.classRules.enumerated() {
            guard let rule else { continue }
            var finding = state.findings[index, default: .init()]
            let yields = rateMeasured && rules.rateYieldingClasses.contains(index)
            let transition = finding.evaluate(
                aggregate: yields ? 0 : state.aggregate(index, by: rules.aggregation),
                rule: rule,
                confirmCount: rules.confirmCount,
                clearCount: rules.clearCount,
                hysteresis: rules.hysteresis
            )
            state.findings[index] = finding
            switch transition {
            case .raised:
                events.append(findingEvent(.raised, stream: stream, rule: rule, finding: finding, state: state))
            case .cleared:
                events.append(
                    findingEvent(
                        .cleared,
                        stream: stream,
                        rule: rule,
                        finding: finding,
                        state: state,
                        reason: .conditionEnded
                    )
                )
            case nil:
                break
            }
        }
        streams[stream] = state
        return events
    }

    /// Records a window that was not classified because of a technical fault.
    ///
    /// - Parameters:
    ///   - stream: The stream's id.
    ///   - startSeconds: Window start, stream seconds.
    ///   - endSeconds: Window end, stream seconds; not before the previous window's end.
    ///   - flags: The faults found in the window.
    ///   - heartRate: The stream's heart rate as the window completed, if measured.
    /// - Returns: The technical and heart-rate transitions, one event each.
    /// - Throws: ``AlarmsError/badWindowTimes(stream:startSeconds:endSeconds:)`` or
    ///   ``AlarmsError/windowOutOfOrder(stream:endSeconds:previousEndSeconds:)``.
    public mutating func skip(
        stream: String,
        startSeconds: Double,
        endSeconds: Double,
        flags: TechnicalFlags,
        heartRate: HeartRateReading? = nil
    ) throws(AlarmsError) -> [AlertEvent] {
        try observeWindow(
            stream: stream,
            startSeconds: startSeconds,
            endSeconds: endSeconds,
            flags: flags,
            heartRate: heartRate
        )
    }

    /// What every window brings, classified or not: its place in the stream, its technical conditions and its
    /// heart rate.
    private mutating func observeWindow(
        stream: String,
        startSeconds: Double,
        endSeconds: Double,
        flags: TechnicalFlags,
        heartRate: HeartRateReading?
    ) throws(AlarmsError) -> [AlertEvent] {
        var events = try beginWindow(
            stream: stream,
            startSeconds: startSeconds,
            endSeconds: endSeconds,
            heartRate: heartRate
        )
        events += observeTechnical(stream: stream, flags: flags)
        events += observeHeartRate(stream: stream)
        return events
    }

    /// Checks the window's order, notes it and its heart rate, and clears a stall or a lost-stream alarm it ends.
    private mutating func beginWindow(
        stream: String,
        startSeconds: Double,
        endSeconds: Double,
        heartRate: HeartRateReading?
    ) throws(AlarmsError) -> [AlertEvent] {
        guard startSeconds.isFinite, endSeconds.isFinite, startSeconds >= 0, startSeconds <= endSeconds else {
            throw .badWindowTimes(stream: stream, startSeconds: startSeconds, endSeconds: endSeconds)
        }
        var state = streams[stream, default: StreamAlarmState()]
        if let previous = state.lastWindow, endSeconds < previous.endSeconds {
            throw .windowOutOfOrder(stream: stream, endSeconds: endSeconds, previousEndSeconds: previous.endSeconds)
        }
        var events: [AlertEvent] = []
        // Ending a stream removes its state, so only a state without a window yet can belong to a lost stream.
        let isFirstWindow = state.lastWindow == nil
        state.lastWindow = (startSeconds, endSeconds)
        state.heartRate = heartRate
        if state.isStalled {
            state.isStalled = false
            events.append(
                technicalEvent(.technicalCleared, stream: stream, .streamStalled, state.lastWindow, .conditionEnded)
            )
        }
        if isFirstWindow, let lost = lostStreams.firstIndex(where: { $0.stream == stream }) {
            lostStreams.remove(at: lost)
            events.append(
                technicalEvent(
                    .technicalCleared,
                    stream: stream,
                    .streamEndedUnexpectedly,
                    state.lastWindow,
                    .streamResumed
                )
            )
        }
        streams[stream] = state
        return events
    }

    // MARK: - Events

    func findingEvent(
        _ kind: AlertEvent.Kind,
        stream: String,
        rule: AlarmRules.ClassRule,
        finding: StreamAlarmState.FindingState,
        state: StreamAlarmState,
        reason: AlertEvent.ClearReason? = nil
    ) -> AlertEvent {
        AlertEvent(
            kind: rule.priority.isAlarm ? kind : kind.asFinding,
            stream: stream,
            subject: .finding(code: rule.code, description: rule.description),
            priority: rule.priority,
            probability: finding.lastAggregate,
            threshold: rule.threshold,
            windowStartSeconds: state.lastWindow?.startSeconds ?? 0,
            windowEndSeconds: state.lastWindow?.endSeconds ?? 0,
            reason: reason,
            heartRateBPM: state.heartRate.flatMap(AlertEvent.displayedRate),
            model: rules.model
        )
    }

    func technicalEvent(
        _ kind: AlertEvent.Kind,
        stream: String,
        _ condition: TechnicalCondition,
        _ window: (startSeconds: Double, endSeconds: Double)?,
        _ reason: AlertEvent.ClearReason? = nil,
        lead: Int? = nil
    ) -> AlertEvent {
        AlertEvent(
            kind: kind,
            stream: stream,
            subject: .technical(condition, lead: lead.map { rules.leadName($0) }),
            priority: condition.priority,
            windowStartSeconds: window?.startSeconds ?? 0,
            windowEndSeconds: window?.endSeconds ?? 0,
            reason: reason,
            heartRateBPM: streams[stream]?.heartRate.flatMap(AlertEvent.displayedRate),
            model: rules.model
        )
    }
}
