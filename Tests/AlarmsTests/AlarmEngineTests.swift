import AlarmsTestSupport
import Stream
import Testing

@testable import Alarms

/// Feeds windows of 2.5 s every 0.5 s to one stream, continuing from where the last call stopped.
struct ScriptedStream {
    var engine: AlarmEngine
    var stream = "bed-1"
    var index = 0

    /// Classifies one window per entry of `afib` (other outputs 0 unless `avb` is given); returns every event.
    mutating func feed(afib: [Float], avb: [Float]? = nil) throws -> [AlertEvent] {
        var events: [AlertEvent] = []
        for (step, probability) in afib.enumerated() {
            let start = Double(index) * 0.5
            index += 1
            events += try engine.classify(
                stream: stream,
                startSeconds: start,
                endSeconds: start + 2.5,
                probabilities: [0.1, probability, avb?[step] ?? 0]
            )
        }
        return events
    }

    /// Skips one window per entry with the given flags.
    mutating func skip(_ flags: [TechnicalFlags]) throws -> [AlertEvent] {
        var events: [AlertEvent] = []
        for flag in flags {
            let start = Double(index) * 0.5
            index += 1
            events += try engine.skip(stream: stream, startSeconds: start, endSeconds: start + 2.5, flags: flag)
        }
        return events
    }
}

@Suite struct AlarmEngineTests {
    @Test func raisesOnlyAfterConfirmCountConsecutiveEvaluations() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        #expect(try script.feed(afib: [0.6, 0.6, 0.4, 0.6, 0.6]).isEmpty)
        let events = try script.feed(afib: [0.6])
        #expect(
            events == [
                AlertEvent(
                    kind: .raised,
                    stream: "bed-1",
                    subject: .finding(code: "AFIB", description: "atrial fibrillation"),
                    priority: .medium,
                    probability: 0.6,
                    threshold: 0.5,
                    windowStartSeconds: 2.5,
                    windowEndSeconds: 5,
                    model: "test-model"
                )
            ]
        )
    }

    @Test func emitsNothingWhileAnAlarmHoldsItsState() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        let raised = try script.feed(afib: Array(repeating: 0.9, count: 40))
        #expect(raised.map(\.kind) == [.raised])
        #expect(try script.feed(afib: Array(repeating: 0.05, count: 2)).map(\.kind) == [.cleared])
        #expect(try script.feed(afib: Array(repeating: 0.05, count: 40)).isEmpty)
    }

    @Test func clearsOnlyBelowThresholdMinusHysteresisForClearCount() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules(clearCount: 3, hysteresis: 0.1)))
        #expect(try script.feed(afib: [0.7, 0.7, 0.7]).map(\.kind) == [.raised])
        // In the band [0.4, 0.5): below the threshold but not by the margin, so never clears.
        #expect(try script.feed(afib: Array(repeating: 0.45, count: 20)).isEmpty)
        // Two below the band, one in it (restarts the count), then three below: clears on the third.
        #expect(try script.feed(afib: [0.3, 0.3, 0.45, 0.3, 0.3]).isEmpty)
        let cleared = try script.feed(afib: [0.3])
        #expect(cleared.map(\.kind) == [.cleared])
        #expect(cleared.first?.reason == .conditionEnded)
        #expect(cleared.first?.probability == 0.3)
    }

    @Test func highPriorityAlarmLatchesUntilAcknowledged() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        let raised = try script.feed(afib: [0, 0, 0], avb: [0.8, 0.8, 0.8])
        #expect(raised.map(\.kind) == [.raised])
        #expect(raised.first?.priority == .high)
        #expect(try script.feed(afib: Array(repeating: 0, count: 30), avb: Array(repeating: 0, count: 30)).isEmpty)
        #expect(script.engine.activeAlarmCount == 1)
        let cleared = try script.engine.acknowledge(stream: "bed-1", code: "3AVB")
        #expect(cleared.map(\.kind) == [.cleared])
        #expect(cleared.first?.reason == .acknowledged)
        #expect(script.engine.activeAlarmCount == 0)
        #expect(throws: AlarmsError.noSuchAlarm(stream: "bed-1", subject: "3AVB")) {
            try script.engine.acknowledge(stream: "bed-1", code: "3AVB")
        }
    }

    @Test func latchedAlarmReRaisedConditionStaysOneAlarm() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        #expect(try script.feed(afib: [0, 0, 0], avb: [0.8, 0.8, 0.8]).count == 1)
        #expect(try script.feed(afib: [0, 0], avb: [0, 0]).isEmpty)
        #expect(try script.feed(afib: [0, 0, 0], avb: [0.8, 0.8, 0.8]).isEmpty)
    }

    @Test func acknowledgedWhilePresentClearsWhenConditionEnds() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        #expect(try script.feed(afib: [0, 0, 0], avb: [0.8, 0.8, 0.8]).count == 1)
        #expect(try script.engine.acknowledge(stream: "bed-1", code: "3AVB").isEmpty)
        #expect(try script.feed(afib: [0], avb: [0.8]).isEmpty)
        let cleared = try script.feed(afib: [0, 0], avb: [0.1, 0.1])
        #expect(cleared.map(\.kind) == [.cleared])
        #expect(cleared.first?.reason == .conditionEnded)
    }

    @Test func aggregatesTheMaxOverTheSpanOfStreamTime() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules(spanSeconds: 10, confirmCount: 1)))
        // One spike in the window starting at 0 s; it counts while windows end no later than 10 s.
        let raised = try script.feed(afib: [0.9])
        #expect(raised.map(\.kind) == [.raised])
        // Windows 1...15 end at 3...10 s: the spike still lies within the span.
        #expect(try script.feed(afib: Array(repeating: 0.1, count: 15)).isEmpty)
        // Window 16 ends at 10.5 s: the spike drops out; the alarm clears after clearCount (2) evaluations.
        #expect(try script.feed(afib: [0.1]).isEmpty)
        let cleared = try script.feed(afib: [0.1])
        #expect(cleared.map(\.kind) == [.cleared])
        #expect(cleared.first?.windowEndSeconds == 11)
        #expect(cleared.first?.probability == 0.1)
    }

    @Test func aggregatesTheMeanWhenConfigured() throws {
        var script = ScriptedStream(
            engine: AlarmEngine(rules: try makeRules(spanSeconds: 10, aggregation: .mean, confirmCount: 1))
        )
        // Means 0.2, 0.2, 0.433…, then 0.55: raised on the fourth window.
        #expect(try script.feed(afib: [0.2, 0.2, 0.9]).isEmpty)
        let raised = try script.feed(afib: [0.9])
        #expect(raised.map(\.kind) == [.raised])
        #expect(abs((raised.first?.probability ?? 0) - 0.55) < 1e-6)
    }

    @Test func skipsFaultyWindowsWithoutTouchingFindingCounts() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        #expect(try script.feed(afib: [0.9, 0.9]).isEmpty)
        let flatV1 = TechnicalFlags(flatLeads: LeadSet(leadIndex: 6))
        let technical = try script.skip([flatV1, flatV1, flatV1])
        #expect(technical.map(\.kind) == [.technicalRaised])
        #expect(technical.first?.subject == .technical(.leadOff, lead: "V1"))
        #expect(technical.first?.priority == .medium)
        // The third high evaluation (after the skipped windows) confirms the finding; the clean window counts
        // once towards clearing the technical alarm.
        #expect(try script.feed(afib: [0.9]).map(\.kind) == [.raised])
        let clearedTechnical = try script.feed(afib: [0.9])
        #expect(clearedTechnical.map(\.kind) == [.technicalCleared])
        #expect(clearedTechnical.first?.reason == .conditionEnded)
    }

    @Test func raisesOneTechnicalAlarmPerFaultyLead() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        _ = try script.feed(afib: [0.1])
        let flags = TechnicalFlags(
            flatLeads: [LeadSet(leadIndex: 0), LeadSet(leadIndex: 1)], saturatedLeads: LeadSet(leadIndex: 7))
        let events = try script.skip([flags, flags, flags, flags])
        #expect(
            events.map(\.subject) == [
                .technical(.leadOff, lead: "I"), .technical(.leadOff, lead: "II"), .technical(.saturation, lead: "V2"),
            ]
        )
        #expect(events.allSatisfy { $0.kind == .technicalRaised })
    }

    @Test func stallRaisesOnceAndTheNextWindowClearsIt() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        _ = try script.feed(afib: [0.1])
        let stalled = script.engine.stalled(stream: "bed-1")
        #expect(stalled.map(\.kind) == [.technicalRaised])
        #expect(stalled.first?.subject == .technical(.streamStalled, lead: nil))
        #expect(stalled.first?.priority == .medium)
        #expect(script.engine.stalled(stream: "bed-1").isEmpty)
        #expect(try script.feed(afib: [0.1]).map(\.kind) == [.technicalCleared])
    }

    @Test func streamEndClearsItsAlarmsAndAnUnexpectedEndRaisesUntilResumed() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        #expect(try script.feed(afib: [0.9, 0.9, 0.9], avb: [0.9, 0.9, 0.9]).count == 2)
        let ended = script.engine.ended(stream: "bed-1", expected: false)
        #expect(ended.map(\.kind) == [.cleared, .cleared, .technicalRaised])
        #expect(ended.prefix(2).allSatisfy { $0.reason == .streamEnded })
        #expect(ended.last?.subject == .technical(.streamEndedUnexpectedly, lead: nil))
        #expect(script.engine.ended(stream: "bed-1", expected: false).isEmpty)
        #expect(script.engine.streamCount == 0)
        #expect(script.engine.activeAlarmCount == 1)
        script.index = 0
        let resumed = try script.feed(afib: [0.1])
        #expect(resumed.map(\.kind) == [.technicalCleared])
        #expect(resumed.first?.reason == .streamResumed)
        #expect(script.engine.ended(stream: "bed-1", expected: true).isEmpty)
    }

    @Test func aLostStreamThatStallsBeforeItsFirstWindowIsStillClearedByThatWindow() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        _ = try script.feed(afib: [0.1])
        #expect(script.engine.ended(stream: "bed-1", expected: false).map(\.kind) == [.technicalRaised])
        #expect(script.engine.stalled(stream: "bed-1").map(\.kind) == [.technicalRaised])
        let resumed = try script.feed(afib: [0.1])
        #expect(resumed.map(\.reason) == [.conditionEnded, .streamResumed])
        #expect(script.engine.activeAlarmCount == 0)
        #expect(try script.feed(afib: [0.1]).isEmpty)
    }

    @Test func stalledEndingRaisesTheStallClearsItWithTheStreamAndRaisesTheLoss() throws {
        var engine = AlarmEngine(rules: try makeRules())
        let events = try engine.apply(.ended(stream: "bed-5", .stalled))
        #expect(events.map(\.kind) == [.technicalRaised, .technicalCleared, .technicalRaised])
        #expect(events.first?.subject == .technical(.streamStalled, lead: nil))
        #expect(events[1].reason == .streamEnded)
        #expect(events.last?.subject == .technical(.streamEndedUnexpectedly, lead: nil))
        #expect(try engine.apply(.ended(stream: "bed-6", .expected)).isEmpty)
    }

    @Test func lostStreamAlarmCanBeAcknowledged() throws {
        var engine = AlarmEngine(rules: try makeRules())
        #expect(engine.ended(stream: "bed-9", expected: false).map(\.kind) == [.technicalRaised])
        let cleared = try engine.acknowledge(stream: "bed-9", code: "stream-ended-unexpectedly")
        #expect(cleared.map(\.reason) == [.acknowledged])
        #expect(engine.activeAlarmCount == 0)
    }

    @Test func reloadKeepsCountsAndRaisedAlarmsOfClassesThatStillAlert() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        #expect(try script.feed(afib: [0.55, 0.55]).isEmpty)
        // The new threshold applies from the next window; the two evaluations already counted stay counted.
        #expect(script.engine.reload(try makeRules(thresholds: ["AFIB": 0.52])).isEmpty)
        let raised = try script.feed(afib: [0.55])
        #expect(raised.map(\.kind) == [.raised])
        #expect(raised.first?.threshold == 0.52)
        // Raised under 0.52; under 0.7 the same 0.65 lies in the hysteresis band and keeps it raised.
        #expect(script.engine.reload(try makeRules(thresholds: ["AFIB": 0.7])).isEmpty)
        #expect(try script.feed(afib: Array(repeating: 0.65, count: 6)).isEmpty)
        #expect(try script.feed(afib: [0.5, 0.5]).map(\.kind) == [.cleared])
    }

    @Test func reloadClearsRaisedAlarmsOfClassesThatNoLongerAlert() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        #expect(try script.feed(afib: [0.9, 0.9, 0.9]).count == 1)
        let events = script.engine.reload(try makeRules(classes: ["3AVB": .high]))
        #expect(events.map(\.kind) == [.cleared])
        #expect(events.first?.reason == .classDisabled)
        #expect(try script.feed(afib: Array(repeating: 0.9, count: 5)).isEmpty)
    }

    @Test func reloadToLowerPriorityReleasesALatchedAlarm() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        #expect(try script.feed(afib: [0, 0, 0], avb: [0.9, 0.9, 0.9]).count == 1)
        #expect(try script.feed(afib: [0, 0], avb: [0, 0]).isEmpty)
        _ = script.engine.reload(try makeRules(classes: ["AFIB": .medium, "3AVB": .medium]))
        #expect(try script.feed(afib: [0], avb: [0]).map(\.kind) == [.cleared])
    }

    @Test func badWindowsAreRejectedWithoutChangingState() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        #expect(try script.feed(afib: [0.9, 0.9]).isEmpty)
        #expect(throws: AlarmsError.badProbabilities(stream: "bed-1", reason: "2 values for a model with 3 classes")) {
            try script.engine.classify(stream: "bed-1", startSeconds: 1, endSeconds: 3.5, probabilities: [0.1, 0.9])
        }
        #expect(throws: AlarmsError.badProbabilities(stream: "bed-1", reason: "output 1 is nan")) {
            try script.engine.classify(stream: "bed-1", startSeconds: 1, endSeconds: 3.5, probabilities: [0, .nan, 0])
        }
        #expect(throws: AlarmsError.windowOutOfOrder(stream: "bed-1", endSeconds: 2, previousEndSeconds: 3)) {
            try script.engine.classify(stream: "bed-1", startSeconds: 0, endSeconds: 2, probabilities: [0, 0.9, 0])
        }
        #expect(throws: AlarmsError.badWindowTimes(stream: "bed-1", startSeconds: 4, endSeconds: 3.5)) {
            try script.engine.skip(stream: "bed-1", startSeconds: 4, endSeconds: 3.5, flags: TechnicalFlags())
        }
        #expect(throws: AlarmsError.badWindowTimes(stream: "bed-1", startSeconds: 1, endSeconds: .infinity)) {
            try script.engine.classify(
                stream: "bed-1",
                startSeconds: 1,
                endSeconds: .infinity,
                probabilities: [0, 0, 0]
            )
        }
        // The stream's count survived: one more high window confirms.
        #expect(try script.feed(afib: [0.9]).map(\.kind) == [.raised])
    }

    @Test func streamsNeverAffectEachOther() throws {
        var first = ScriptedStream(engine: AlarmEngine(rules: try makeRules()), stream: "bed-1")
        #expect(try first.feed(afib: [0.9, 0.9]).isEmpty)
        var second = ScriptedStream(engine: first.engine, stream: "bed-2")
        #expect(try second.feed(afib: [0.1, 0.1, 0.1]).isEmpty)
        _ = second.engine.ended(stream: "bed-2", expected: true)
        first.engine = second.engine
        let events = try first.feed(afib: [0.9])
        #expect(events.map(\.stream) == ["bed-1"])
    }

    @Test func defaultRulesRaiseAtThreeAndAHalfSecondsAndClearTenSecondsAfterTheLastHighWindow() throws {
        let defaults = AlarmSettings.defaults
        var script = ScriptedStream(
            engine: AlarmEngine(
                rules: try makeRules(
                    spanSeconds: defaults.spanSeconds,
                    confirmCount: defaults.confirmCount,
                    clearCount: defaults.clearCount,
                    hysteresis: defaults.hysteresis
                )
            )
        )
        let raised = try script.feed(afib: Array(repeating: 0.9, count: 10))
        #expect(raised.map(\.windowEndSeconds) == [3.5])
        // The last high window (index 9) ends at 7 s; the alarm clears on the window ending at 17 s.
        let cleared = try script.feed(afib: Array(repeating: 0.1, count: 30))
        #expect(cleared.map(\.kind) == [.cleared])
        #expect(cleared.first?.windowEndSeconds == 17)
    }

    @Test func rulesRejectClassesTheModelLacks() throws {
        #expect(throws: AlarmsError.unknownAlarmClass(key: "alarms.classes.AFLT", code: "AFLT")) {
            try makeRules(classes: ["AFLT": .medium])
        }
        #expect(throws: AlarmsError.unknownAlarmClass(key: "alarms.thresholds.PVC", code: "PVC")) {
            try makeRules(thresholds: ["PVC": 0.3])
        }
        let rules = try makeRules(thresholds: ["AFIB": 0.25])
        #expect(rules.classRules.map { $0?.threshold } == [nil, 0.25, 0.6])
    }
}
