import Stream

extension AlarmEngine {
    // MARK: - Technical alarms

    /// Debounces the window-based technical conditions of one window.
    mutating func observeTechnical(stream: String, flags: TechnicalFlags) -> [AlertEvent] {
        guard var state = streams[stream] else { return [] }
        var keys = Set(state.technical.keys)
        for condition in TechnicalCondition.allCases {
            for lead in flags.leads(with: condition).leadIndices {
                keys.insert(.init(condition: condition, lead: lead))
            }
            if flags.isFlagged(condition) {
                keys.insert(.init(condition: condition, lead: nil))
            }
        }
        var events: [AlertEvent] = []
        for key in keys.sorted() {
            var technical = state.technical[key, default: .init()]
            let faulty =
                key.lead.map { flags.leads(with: key.condition).contains(leadIndex: $0) }
                ?? flags.isFlagged(key.condition)
            // One lost window is already a gap in the watch; the alarm stays until the span it could hide has
            // passed without a loss.
            let degraded = key.condition == .monitoringDegraded
            if technical.observe(
                faulty: faulty,
                raiseCount: degraded ? 1 : rules.technicalRaiseCount,
                clearCount: degraded ? rules.degradedClearCount : rules.technicalClearCount
            ) {
                let kind: AlertEvent.Kind = technical.isActive ? .technicalRaised : .technicalCleared
                let reason: AlertEvent.ClearReason? = technical.isActive ? nil : .conditionEnded
                events.append(
                    technicalEvent(kind, stream: stream, key.condition, state.lastWindow, reason, lead: key.lead)
                )
            }
            // A clean, inactive entry carries nothing worth keeping; dropping it keeps the map small.
            state.technical[key] = technical.isActive || technical.faultCount > 0 ? technical : nil
        }
        streams[stream] = state
        return events
    }

    /// Raises the "stream stalled" alarm: the ingest saw no data on `stream` for the stall timeout.
    ///
    /// The next window of the stream clears it. Calling it again while raised does nothing.
    public mutating func stalled(stream: String) -> [AlertEvent] {
        var state = streams[stream, default: StreamAlarmState()]
        guard !state.isStalled else { return [] }
        state.isStalled = true
        streams[stream] = state
        return [technicalEvent(.technicalRaised, stream: stream, .streamStalled, state.lastWindow)]
    }

    // MARK: - Stream end, acknowledgement, reload

    /// Ends a stream: clears its alarms (reason `stream-ended`) and forgets it.
    ///
    /// If the end was not announced (`expected` false), raises "stream ended unexpectedly", which stays raised
    /// until a stream with the same id sends a window or it is acknowledged.
    public mutating func ended(stream: String, expected: Bool) -> [AlertEvent] {
        var events: [AlertEvent] = []
        let state = streams.removeValue(forKey: stream)
        if let state {
            for index in state.findings.keys.sorted() {
                guard let finding = state.findings[index], finding.isActive, let rule = rules.classRules[index] else {
                    continue
                }
                events.append(
                    findingEvent(
                        .cleared,
                        stream: stream,
                        rule: rule,
                        finding: finding,
                        state: state,
                        reason: .streamEnded
                    )
                )
            }
            if let condition = state.rate.active {
                events.append(
                    heartRateEvent(.heartRateCleared, stream: stream, condition, state: state, reason: .streamEnded)
                )
            }
            for key in state.technical.keys.sorted() where state.technical[key]?.isActive == true {
                events.append(
                    technicalEvent(
                        .technicalCleared,
                        stream: stream,
                        key.condition,
                        state.lastWindow,
                        .streamEnded,
                        lead: key.lead
                    )
                )
            }
            if state.isStalled {
                events.append(
                    technicalEvent(.technicalCleared, stream: stream, .streamStalled, state.lastWindow, .streamEnded)
                )
            }
        }
        guard !expected, !lostStreams.contains(where: { $0.stream == stream }) else { return events }
        let window = state?.lastWindow ?? (0, 0)
        if lostStreams.count >= Self.lostStreamCapacity {
            lostStreams.removeFirst()
        }
        lostStreams.append((stream, window))
        events.append(technicalEvent(.technicalRaised, stream: stream, .streamEndedUnexpectedly, window))
        return events
    }

    /// Acknowledges an alarm: a latched alarm whose condition has ended clears now (reason `acknowledged`); one
    /// whose condition still holds stops latching and clears when the condition ends.
    ///
    /// - Parameters:
    ///   - stream: The stream's id.
    ///   - code: A class code, a heart-rate condition (`asystole`, `extreme-bradycardia`, …), or
    ///     `stream-ended-unexpectedly` for a lost stream's alarm.
    /// - Returns: The cleared event, or nothing when the alarm stays raised.
    /// - Throws: ``AlarmsError/noSuchAlarm(stream:subject:)`` when no such alarm is raised.
    public mutating func acknowledge(stream: String, code: String) throws(AlarmsError) -> [AlertEvent] {
        if code == TechnicalCondition.streamEndedUnexpectedly.rawValue,
            let lost = lostStreams.firstIndex(where: { $0.stream == stream })
        {
            let window = lostStreams.remove(at: lost).window
            return [technicalEvent(.technicalCleared, stream: stream, .streamEndedUnexpectedly, window, .acknowledged)]
        }
        if let condition = HeartRateCondition(rawValue: code) {
            guard let events = acknowledgeHeartRate(stream: stream, condition: condition) else {
                throw .noSuchAlarm(stream: stream, subject: code)
            }
            return events
        }
        guard var state = streams[stream],
            let index = rules.classRules.firstIndex(where: { $0?.code == code }),
            let rule = rules.classRules[index],
            var finding = state.findings[index], finding.isActive
        else {
            throw .noSuchAlarm(stream: stream, subject: code)
        }
        defer { streams[stream] = state }
        guard finding.conditionPresent else {
            finding.isActive = false
            finding.isAcknowledged = false
            state.findings[index] = finding
            return [
                findingEvent(
                    .cleared,
                    stream: stream,
                    rule: rule,
                    finding: finding,
                    state: state,
                    reason: .acknowledged
                )
            ]
        }
        finding.isAcknowledged = true
        state.findings[index] = finding
        return []
    }

    /// Puts new rules in force without losing state: classes that still alert keep their counts and raised
    /// alarms (with the new threshold and priority from the next window on); raised alarms of classes that no
    /// longer alert, and heart-rate alarms when those are switched off, are cleared (reason `class-disabled`).
    ///
    /// - Precondition: `rules` describes the same model outputs (only thresholds and rules are reloaded).
    public mutating func reload(_ newRules: AlarmRules) -> [AlertEvent] {
        precondition(newRules.classCount == rules.classCount, "reload must keep the model's outputs")
        let oldRules = rules
        rules = newRules
        var events: [AlertEvent] = []
        for stream in streams.keys.sorted() {
            guard var state = streams[stream] else { continue }
            for index in state.findings.keys.sorted() where newRules.classRules[index] == nil {
                guard let finding = state.findings.removeValue(forKey: index), finding.isActive,
                    let oldRule = oldRules.classRules[index]
                else { continue }
                events.append(
                    findingEvent(
                        .cleared,
                        stream: stream,
                        rule: oldRule,
                        finding: finding,
                        state: state,
                        reason: .classDisabled
                    )
                )
            }
            if !newRules.heartRate.enabled, let condition = state.rate.active {
                events.append(
                    heartRateEvent(.heartRateCleared, stream: stream, condition, state: state, reason: .classDisabled)
                )
                state.rate = HeartRateAlarmState()
            }
            streams[stream] = state
        }
        return events
    }
}
