import AlarmsTestSupport
import Beats
import Testing

@testable import Alarms

/// The heart-rate alarms on scripted readings, one per 0.5 s window: limits, confirmation, hysteresis,
/// severity, latching, acknowledgement, vitals, and the network's rate classes yielding to the measured rate.
@Suite struct HeartRateAlarmTests {
    static func rate(_ bpm: Double) -> HeartRateReading {
        HeartRateReading(beatsPerMinute: bpm, secondsSinceLastBeat: 0.2, asystole: false, intervalsUsed: 8)
    }

    static let asystole = HeartRateReading(
        beatsPerMinute: nil,
        secondsSinceLastBeat: 4.1,
        asystole: true,
        intervalsUsed: 0
    )
    static let unknown = HeartRateReading(
        beatsPerMinute: nil,
        secondsSinceLastBeat: nil,
        asystole: false,
        intervalsUsed: 0
    )

    /// An engine over the fixture model, heart-rate alarms at their defaults but no vitals.
    struct Harness {
        var engine: AlarmEngine
        var endSeconds = 2.0

        init(vitalsSeconds: Double = 0) throws {
            var rules = try makeRules()
            rules.heartRate.vitalsIntervalSeconds = vitalsSeconds
            engine = AlarmEngine(rules: rules)
        }

        /// Feeds one faulty-free, unclassified window carrying `reading`; returns "kind/condition/reason" per event.
        mutating func feed(_ reading: HeartRateReading, stream: String = "bed") throws -> [String] {
            endSeconds += 0.5
            let events = try engine.skip(
                stream: stream,
                startSeconds: endSeconds - 2.5,
                endSeconds: endSeconds,
                flags: TechnicalFlags(),
                heartRate: reading
            )
            return events.map(Self.describe)
        }

        static func describe(_ event: AlertEvent) -> String {
            let subject: String =
                switch event.subject {
                case .heartRate(let condition): condition.rawValue
                case .finding(let code, _): code
                case .technical(let condition, _): condition.rawValue
                case .vitals: "vitals"
                }
            return "\(event.kind.rawValue)/\(subject)/\(event.reason?.rawValue ?? "-")"
        }
    }

    @Test func aRateBeyondALimitRaisesAfterTwoReadingsAndClearsInsideTheHysteresis() throws {
        var harness = try Harness()
        #expect(try harness.feed(Self.rate(70)).isEmpty)
        #expect(try harness.feed(Self.rate(47)).isEmpty)
        let raised = try harness.engine.skip(
            stream: "bed",
            startSeconds: harness.endSeconds - 2,
            endSeconds: harness.endSeconds + 0.5,
            flags: TechnicalFlags(),
            heartRate: Self.rate(47)
        )
        harness.endSeconds += 0.5
        let event = try #require(raised.first)
        #expect(raised.count == 1)
        #expect(event.kind == .heartRateRaised && event.subject == .heartRate(.bradycardia))
        #expect(event.priority == .medium && event.threshold == 50 && event.heartRateBPM == 47)
        #expect(event.message.contains("bradycardia raised, medium priority, heart rate 47 bpm (limit 50)"))
        // 52 bpm is above the limit but within the 5 bpm hysteresis: still bradycardia.
        for _ in 0..<4 { #expect(try harness.feed(Self.rate(52)).isEmpty) }
        #expect(try harness.feed(Self.rate(56)).isEmpty)
        #expect(try harness.feed(Self.rate(56)) == ["heart-rate-cleared/bradycardia/condition-ended"])
        #expect(harness.engine.activeAlarmCount == 0)
    }

    @Test func aMoreSevereConditionSupersedesAndAHighOneLatchesUntilAcknowledged() throws {
        var harness = try Harness()
        _ = try harness.feed(Self.rate(45))
        #expect(try harness.feed(Self.rate(45)) == ["heart-rate-raised/bradycardia/-"])
        _ = try harness.feed(Self.rate(35))
        #expect(
            try harness.feed(Self.rate(35)) == [
                "heart-rate-cleared/bradycardia/superseded", "heart-rate-raised/extreme-bradycardia/-",
            ]
        )
        // Back to plain bradycardia and then to normal: the high alarm stays raised (latched).
        for bpm in [45.0, 45, 70, 70, 70] { #expect(try harness.feed(Self.rate(bpm)).isEmpty) }
        #expect(harness.engine.activeAlarmCount == 1)
        let cleared = try harness.engine.acknowledge(stream: "bed", code: "extreme-bradycardia")
        #expect(cleared.map(Harness.describe) == ["heart-rate-cleared/extreme-bradycardia/acknowledged"])
        #expect(throws: AlarmsError.noSuchAlarm(stream: "bed", subject: "extreme-bradycardia")) {
            try harness.engine.acknowledge(stream: "bed", code: "extreme-bradycardia")
        }
    }

    @Test func asystoleRaisesAtOnceLatchesAndEndsWithTheStream() throws {
        var harness = try Harness()
        _ = try harness.feed(Self.rate(80))
        #expect(try harness.feed(Self.asystole) == ["heart-rate-raised/asystole/-"])
        #expect(try harness.feed(Self.asystole).isEmpty)
        // Acknowledged while it lasts: it stays, and clears once beats are back.
        #expect(try harness.engine.acknowledge(stream: "bed", code: "asystole").isEmpty)
        _ = try harness.feed(Self.rate(80))
        #expect(try harness.feed(Self.rate(80)) == ["heart-rate-cleared/asystole/condition-ended"])
        #expect(try harness.feed(Self.asystole) == ["heart-rate-raised/asystole/-"])
        let ended = harness.engine.ended(stream: "bed", expected: true)
        #expect(ended.map(Harness.describe) == ["heart-rate-cleared/asystole/stream-ended"])
    }

    @Test func aLatchedAlarmGivesWayOnlyToOneAtLeastAsSevere() throws {
        var harness = try Harness()
        _ = try harness.feed(Self.rate(160))
        #expect(try harness.feed(Self.rate(160)) == ["heart-rate-raised/extreme-tachycardia/-"])
        for _ in 0..<3 { #expect(try harness.feed(Self.rate(130)).isEmpty) }
        #expect(
            try harness.feed(Self.asystole) == [
                "heart-rate-cleared/extreme-tachycardia/superseded", "heart-rate-raised/asystole/-",
            ]
        )
    }

    @Test func readingsWithoutARateChangeNothing() throws {
        var harness = try Harness()
        _ = try harness.feed(Self.rate(130))
        #expect(try harness.feed(Self.rate(130)) == ["heart-rate-raised/tachycardia/-"])
        for _ in 0..<10 { #expect(try harness.feed(Self.unknown).isEmpty) }
        #expect(harness.engine.activeAlarmCount == 1)
        #expect(harness.engine.displayedHeartRate(stream: "bed") == nil)
    }

    @Test func vitalsComeEveryIntervalOfStreamTimeWithTheDisplayedRate() throws {
        var harness = try Harness(vitalsSeconds: 2)
        var vitals: [AlertEvent] = []
        for index in 0..<12 {
            let events = try harness.engine.skip(
                stream: "bed",
                startSeconds: Double(index) * 0.5,
                endSeconds: Double(index) * 0.5 + 2.5,
                flags: TechnicalFlags(),
                heartRate: index < 6 ? Self.rate(72.34) : Self.asystole
            )
            vitals += events.filter { $0.kind == .vitals }
        }
        #expect(vitals.map(\.windowEndSeconds) == [2.5, 4.5, 6.5])
        #expect(vitals.map(\.heartRateBPM) == [72.3, 72.3, 0])
        #expect(vitals.allSatisfy { $0.priority == .info && $0.syslogPriority == 6 })
        #expect(vitals[0].message == "bed: heart rate 72 bpm, window 0.0–2.5 s")
    }

    @Test func theNetworksRateClassesYieldWhileARateIsMeasured() throws {
        var settings = AlarmSettings.defaults
        settings.confirmCount = 2
        settings.spanSeconds = 0
        settings.classes = ["STACH": .low, "AFIB": .medium]
        let classes: [(code: String, description: String, threshold: Float)] = [
            ("STACH", "sinus tachycardia", 0.5), ("AFIB", "atrial fibrillation", 0.5),
        ]
        func run(_ heartRate: HeartRateAlarmSettings, reading: HeartRateReading) throws -> [String] {
            var engine = AlarmEngine(
                rules: try AlarmRules(
                    alarms: settings,
                    technical: .defaults,
                    heartRate: heartRate,
                    classes: classes,
                    leadNames: ["II"],
                    model: "test"
                )
            )
            var events: [AlertEvent] = []
            for index in 0..<3 {
                events += try engine.classify(
                    stream: "bed",
                    startSeconds: Double(index) * 0.5,
                    endSeconds: Double(index) * 0.5 + 2.5,
                    probabilities: [0.9, 0.9],
                    heartRate: reading
                )
            }
            return events.filter { $0.kind == .raised }.map(Harness.describe)
        }
        var rates = HeartRateAlarmSettings.defaults
        rates.vitalsIntervalSeconds = 0
        #expect(try run(rates, reading: Self.rate(105)) == ["raised/AFIB/-"])
        #expect(try run(rates, reading: Self.unknown) == ["raised/STACH/-", "raised/AFIB/-"])
        rates.networkRateClassesYield = false
        #expect(try run(rates, reading: Self.rate(105)) == ["raised/STACH/-", "raised/AFIB/-"])
    }

    @Test func heartRateAndVitalsEventsReadBackFromTheirJournalFields() throws {
        let events = [
            AlertEvent(
                kind: .heartRateRaised,
                stream: "bed",
                subject: .heartRate(.extremeTachycardia),
                priority: .high,
                threshold: 150,
                windowStartSeconds: 10,
                windowEndSeconds: 12.5,
                heartRateBPM: 163.4,
                model: "m"
            ),
            AlertEvent(
                kind: .vitals,
                stream: "bed",
                subject: .vitals,
                priority: .info,
                windowStartSeconds: 10,
                windowEndSeconds: 12.5,
                model: "m"
            ),
        ]
        for event in events {
            let fields = Dictionary(uniqueKeysWithValues: event.journalFields.map { ($0.name, $0.value) })
            #expect(try AlertEvent(journalFields: fields) == event)
        }
        #expect(events[0].journalFields.contains { $0 == ("ECG_HEART_RATE", "163.4") })
        #expect(events[0].journalFields.contains { $0 == ("ECG_CONDITION", "extreme-tachycardia") })
        #expect(events[0].jsonLine(timestampMicroseconds: 0).contains("\"heart_rate\":163.4"))
    }
}
