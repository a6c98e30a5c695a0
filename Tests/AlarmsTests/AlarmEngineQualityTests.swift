import AlarmsTestSupport
import Stream
import Testing

@testable import Alarms

/// Findings against alarms, and the technical alarms that keep noise and lost windows from passing unseen:
/// scripted probability sequences and flags, one window every 0.5 s.
@Suite struct AlarmEngineQualityTests {
    @Test func findingIsReportedAndResolvedWithoutAlarmSemantics() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules(classes: ["AFIB": .info])))
        let reported = try script.feed(afib: [0.9, 0.9, 0.9])
        #expect(reported.map(\.kind) == [.findingReported])
        let event = try #require(reported.first)
        #expect(event.priority == .info && event.syslogPriority == 6)
        #expect(event.kind.messageID != AlertEvent.Kind.raised.messageID)
        #expect(event.message.contains("AFIB (atrial fibrillation) reported, info priority"))
        #expect(script.engine.activeAlarmCount == 0, "a finding is no active alarm")
        let resolved = try script.feed(afib: [0.1, 0.1])
        #expect(resolved.map(\.kind) == [.findingResolved] && resolved.first?.syslogPriority == 6)
    }

    @Test func findingEndsWithItsStreamAsResolved() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules(classes: ["AFIB": .info])))
        _ = try script.feed(afib: [0.9, 0.9, 0.9])
        let events = script.engine.ended(stream: "bed-1", expected: true)
        #expect(events.map(\.kind) == [.findingResolved] && events.first?.reason == .streamEnded)
    }

    @Test func maskedLeadOnAClassifiedWindowRaisesLeadOffWhileFindingsGoOn() throws {
        var engine = AlarmEngine(rules: try makeRules())
        let offV2 = TechnicalFlags(flatLeads: LeadSet(leadIndex: 7))
        var events: [AlertEvent] = []
        for index in 0..<3 {
            let start = Double(index) * 0.5
            events += try engine.classify(
                stream: "bed-1",
                startSeconds: start,
                endSeconds: start + 2.5,
                probabilities: [0.1, 0.9, 0],
                flags: offV2
            )
        }
        #expect(events.map(\.kind) == [.technicalRaised, .raised])
        #expect(events.first?.subject == .technical(.leadOff, lead: "V2") && events.first?.priority == .medium)
    }

    @Test func noisySignalIsRaisedOverUnclassifiedWindowsAndClearedWhenClean() throws {
        var script = ScriptedStream(engine: AlarmEngine(rules: try makeRules()))
        var noisy = TechnicalFlags()
        noisy.noisySignal = true
        #expect(try script.skip([noisy]).isEmpty)
        let raised = try script.skip([noisy])
        #expect(raised.map(\.kind) == [.technicalRaised])
        #expect(raised.first?.subject == .technical(.noisySignal, lead: nil) && raised.first?.priority == .medium)
        // Noise never becomes a finding: AFIB keeps its counts through the skipped windows.
        #expect(try script.feed(afib: [0.1]).isEmpty)
        #expect(try script.feed(afib: [0.1]).map(\.kind) == [.technicalCleared])
    }

    @Test func oneLostWindowRaisesMonitoringDegradedUntilASpanPassesWithoutLoss() throws {
        var engine = AlarmEngine(rules: try makeRules(spanSeconds: 10))
        var lossy = TechnicalFlags()
        lossy.windowsLostBefore = 2
        var window = 0
        func classify(_ flags: TechnicalFlags) throws -> [AlertEvent] {
            defer { window += 1 }
            let start = Double(window) * 0.5
            return try engine.classify(
                stream: "bed-1",
                startSeconds: start,
                endSeconds: start + 2.5,
                probabilities: [0.1, 0.1, 0],
                flags: flags
            )
        }
        let raised = try classify(lossy)
        #expect(raised.map(\.kind) == [.technicalRaised])
        #expect(raised.first?.subject == .technical(.monitoringDegraded, lead: nil))
        for _ in 0..<19 { #expect(try classify(TechnicalFlags()).isEmpty) }
        #expect(try classify(TechnicalFlags()).map(\.kind) == [.technicalCleared])
    }

    @Test func qualityVerdictsMapOntoFlags() {
        var quality = SignalQuality.clean
        quality.noisyLeads = LeadSet(leadIndex: 0)
        quality.verdict = .noisySignal
        #expect(TechnicalFlags(quality: quality).noisySignal)
        #expect(TechnicalFlags(quality: .clean, windowsLostBefore: 3).isFlagged(.monitoringDegraded))
        #expect(!TechnicalFlags(quality: .clean).isFaulted)
    }
}
