import Beats

/// Debounce of one stream's heart-rate alarm: at most one is raised at a time, the most severe confirmed.
struct HeartRateAlarmState: Sendable {
    enum Transition: Equatable {
        case raised(HeartRateCondition)
        case cleared(HeartRateCondition, AlertEvent.ClearReason)
    }

    /// The raised alarm, if any.
    var active: HeartRateCondition?
    /// The debounced condition of ``active`` still holds; a latched alarm stays raised after this turns false.
    var conditionPresent = false
    /// A latched alarm was acknowledged while its condition held: it clears when the condition ends.
    var isAcknowledged = false
    /// The condition the last readings agree on, and how many in a row.
    var candidate: HeartRateCondition?
    var candidateCount = 0

    /// Applies one reading of the rate meter; returns the transitions, a clear before a raise.
    ///
    /// A reading without rate or asystole (signal unusable, too few beats) changes nothing: the technical
    /// alarms say why. A condition counts once ``HeartRateAlarmSettings/confirmCount`` readings in a row agree
    /// (asystole at once: the meter has already waited 4 s). A confirmed change clears the raised alarm and
    /// raises the new one, except that a latched `high` alarm gives way only to one at least as severe.
    mutating func evaluate(_ reading: HeartRateReading, settings: HeartRateAlarmSettings) -> [Transition] {
        let target: HeartRateCondition?
        if reading.asystole {
            target = .asystole
        } else if let bpm = reading.beatsPerMinute {
            target = settings.condition(atBPM: bpm, active: active)
        } else {
            return []
        }
        if target == candidate {
            candidateCount += 1
        } else {
            candidate = target
            candidateCount = 1
        }
        guard target == .asystole || candidateCount >= settings.confirmCount else { return [] }
        if target == active {
            conditionPresent = active != nil
            return []
        }
        var transitions: [Transition] = []
        if let raised = active {
            let latched = raised.priority == .high && !isAcknowledged
            if latched && (target?.severity ?? 0) < raised.severity {
                conditionPresent = false
                return []
            }
            transitions.append(.cleared(raised, target == nil ? .conditionEnded : .superseded))
            active = nil
        }
        if let target {
            active = target
            conditionPresent = true
            isAcknowledged = false
            transitions.append(.raised(target))
        }
        return transitions
    }
}

extension AlarmEngine {
    /// Debounces the heart-rate alarms on the reading the stream's newest window carried (noted by
    /// ``beginWindow``); sends a vitals event when one is due.
    mutating func observeHeartRate(stream: String) -> [AlertEvent] {
        guard var state = streams[stream], let reading = state.heartRate else { return [] }
        var events: [AlertEvent] = []
        let settings = rules.heartRate
        if settings.enabled {
            for transition in state.rate.evaluate(reading, settings: settings) {
                switch transition {
                case .raised(let condition):
                    events.append(heartRateEvent(.heartRateRaised, stream: stream, condition, state: state))
                case .cleared(let condition, let reason):
                    events.append(
                        heartRateEvent(.heartRateCleared, stream: stream, condition, state: state, reason: reason))
                }
            }
        }
        if settings.vitalsIntervalSeconds > 0, let window = state.lastWindow,
            window.endSeconds >= state.nextVitalsSeconds
        {
            state.nextVitalsSeconds = window.endSeconds + settings.vitalsIntervalSeconds
            events.append(
                AlertEvent(
                    kind: .vitals,
                    stream: stream,
                    subject: .vitals,
                    priority: .info,
                    windowStartSeconds: window.startSeconds,
                    windowEndSeconds: window.endSeconds,
                    heartRateBPM: AlertEvent.displayedRate(reading),
                    model: rules.model
                )
            )
        }
        streams[stream] = state
        return events
    }

    /// Acknowledges the stream's raised heart-rate alarm `condition`, like a finding's (see
    /// ``acknowledge(stream:code:)``); nil when that alarm is not raised.
    mutating func acknowledgeHeartRate(stream: String, condition: HeartRateCondition) -> [AlertEvent]? {
        guard var state = streams[stream], state.rate.active == condition else { return nil }
        defer { streams[stream] = state }
        guard state.rate.conditionPresent else {
            state.rate.active = nil
            state.rate.isAcknowledged = false
            return [heartRateEvent(.heartRateCleared, stream: stream, condition, state: state, reason: .acknowledged)]
        }
        state.rate.isAcknowledged = true
        return []
    }

    func heartRateEvent(
        _ kind: AlertEvent.Kind,
        stream: String,
        _ condition: HeartRateCondition,
        state: StreamAlarmState,
        reason: AlertEvent.ClearReason? = nil
    ) -> AlertEvent {
        AlertEvent(
            kind: kind,
            stream: stream,
            subject: .heartRate(condition),
            priority: condition.priority,
            threshold: rules.heartRate.limit(of: condition).map(Float.init),
            windowStartSeconds: state.lastWindow?.startSeconds ?? 0,
            windowEndSeconds: state.lastWindow?.endSeconds ?? 0,
            reason: reason,
            heartRateBPM: state.heartRate.flatMap(AlertEvent.displayedRate),
            model: rules.model
        )
    }
}
