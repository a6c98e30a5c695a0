import AlarmsTestSupport
import Testing

@testable import Alarms

@Suite struct ActiveAlarmTallyTests {
    /// Five streams driven through every kind of input, in an order fixed by a linear congruential sequence:
    /// after each input the engine accepts, the tally agrees with the engine's full count.
    @Test func agreesWithTheEnginesFullCountAfterEveryInput() throws {
        let rules = [
            try makeRules(),
            try makeRules(classes: ["AFIB": .info, "3AVB": .high], thresholds: ["AFIB": 0.7]),
        ]
        var engine = AlarmEngine(rules: rules[0])
        var tally = ActiveAlarmTally()
        var next = [Double](repeating: 0, count: 5)
        var sequence: UInt64 = 1
        func draw(_ bound: UInt64) -> UInt64 {
            sequence = sequence &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (sequence >> 33) % bound
        }
        var disagreements: [Int] = []
        var largest = 0
        for step in 0..<2_000 {
            let index = Int(draw(5))
            let stream = "bed-\(index)"
            let start = next[index]
            let input: AlarmInput
            switch draw(100) {
            case 0..<70:
                next[index] += 0.5
                input = .classified(
                    stream: stream, startSeconds: start, endSeconds: start + 2.5,
                    probabilities: [0.1, draw(3) == 0 ? 0.2 : 0.9, draw(4) == 0 ? 0.95 : 0.1])
            case 70..<80:
                next[index] += 0.5
                var flags = TechnicalFlags()
                flags.noisySignal = true
                input = .faulty(stream: stream, startSeconds: start, endSeconds: start + 2.5, flags: flags)
            case 80..<85:
                next[index] = 0
                input = .ended(stream: stream, [StreamEnding.expected, .unexpected, .stalled][Int(draw(3))])
            case 85..<97:
                input = .acknowledge(stream: stream, code: ["3AVB", "AFIB", "stream-ended-unexpectedly"][Int(draw(3))])
            default:
                input = .reload(rules[Int(draw(2))])
            }
            guard (try? engine.apply(input)) != nil else { continue }
            tally.update(after: input, in: engine)
            if tally.total(in: engine) != engine.activeAlarmCount { disagreements.append(step) }
            largest = max(largest, engine.activeAlarmCount)
        }
        #expect(disagreements.isEmpty, "first steps where the tally disagreed: \(disagreements.prefix(5))")
        #expect(largest >= 5, "the sequence should keep several alarms active at once")
    }
}
