import Alarms
import AlarmsTestSupport
import Beats
import Producers
import Stream
import TestSupport
import Testing

/// Heart rate through the whole stream path: the simulator's rate steps (IEC 60601-2-27's 80 → 120 and 80 → 40
/// bpm, and 80 → 0), decoded, resampled and beat-detected by the stream pipeline, the alarms by the engine.
@Suite struct HeartRateStepTests {
    /// The stream's windows: end time and the heart rate each carried, and the alarm events they caused.
    static func stream(_ steps: [ECGSimulator.RateStep], seconds: Double) async throws -> (
        readings: [(endSeconds: Double, bpm: Double?)], events: [AlertEvent]
    ) {
        let bytes = try TestStreams.simulated(streamID: "bed", seconds: seconds, heartRateBPM: 80, rateSteps: steps)
        var readings: [(Double, Double?)] = []
        var engine = AlarmEngine(rules: try makeRules())
        var events: [AlertEvent] = []
        var failure: (any Error)?
        try await TestStreams.decode(bytes, configuration: try DaemonTestSupport.pipelineConfiguration()) { window in
            let info = window.info
            readings.append((info.endSeconds, info.heartRate?.beatsPerMinute))
            do {
                events += try engine.skip(
                    stream: "bed",
                    startSeconds: info.startSeconds,
                    endSeconds: info.endSeconds,
                    flags: TechnicalFlags(quality: info.quality),
                    heartRate: info.heartRate
                )
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return (readings, events.filter { $0.kind != .vitals })
    }

    /// The first window end from which every reading is within 5% of `target`.
    static func settled(_ readings: [(endSeconds: Double, bpm: Double?)], at target: Double) -> Double? {
        let last = readings.lastIndex { reading in reading.bpm.map { abs($0 - target) > 0.05 * target } ?? true }
        guard let last else { return readings.first?.endSeconds }
        return last + 1 < readings.count ? readings[last + 1].endSeconds : nil
    }

    @Test(arguments: [120.0, 40.0])
    func theDisplayedRateSettlesWithinTenSecondsOfAStep(to target: Double) async throws {
        let (readings, events) = try await Self.stream([.init(atSeconds: 20, beatsPerMinute: target)], seconds: 40)
        let before = readings.filter { (8...20).contains($0.endSeconds) }.compactMap(\.bpm)
        #expect(!before.isEmpty && before.allSatisfy { abs($0 - 80) < 4 }, "\(before)")
        let settledAt = try #require(Self.settled(readings, at: target))
        print("80 → \(Int(target)) bpm: displayed rate settled \(settledAt - 20) s after the step")
        #expect(settledAt - 20 <= 10)
        // Both steps land at a limit (tachycardia above 120, extreme bradycardia below 40), so which alarm
        // comes depends on the last tenth of a bpm; with 40 bpm some rate alarm must come within 10 s.
        if target == 40 {
            let first = try #require(events.first { $0.kind == .heartRateRaised })
            #expect(first.windowEndSeconds - 20 <= 10)
        }
    }

    @Test func asystoleRaisesFourSecondsAfterTheLastBeat() async throws {
        let (readings, events) = try await Self.stream([.init(atSeconds: 20, beatsPerMinute: 0)], seconds: 30)
        let raised = try #require(events.first { $0.kind == .heartRateRaised })
        #expect(raised.subject == .heartRate(.asystole) && raised.priority == .high && raised.heartRateBPM == 0)
        // The last beat came within one 0.75 s interval before 20 s; the alarm comes 4 s after it, within a
        // window's hop, and never before.
        print("80 → 0 bpm: asystole raised at \(raised.windowEndSeconds) s, the beats stopped at 19.25–20 s")
        #expect((19.25 + 4)...(20 + 4.5) ~= raised.windowEndSeconds)
        #expect(events.count == 1, "\(events.map(\.message))")
        #expect(readings.last?.bpm == nil)
    }
}
