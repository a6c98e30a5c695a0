import Testing

@testable import Beats

/// Runs detector and meter over interleaved frames, reading the meter once a second.
private func readings(_ frames: [Float], leadCount: Int, sampleRateHz: Double) -> [(
    seconds: Double, reading: HeartRateReading
)] {
    var detector = QRSDetector(sampleRateHz: sampleRateHz, leadCount: leadCount)
    var meter = HeartRateMeter(sampleRateHz: sampleRateHz)
    var result: [(Double, HeartRateReading)] = []
    let secondSamples = Int(sampleRateHz)
    frames.withUnsafeBufferPointer { all in
        for (index, start) in stride(from: 0, to: all.count, by: leadCount).enumerated() {
            if let beat = detector.process(UnsafeBufferPointer(rebasing: all[start..<start + leadCount])) {
                meter.recordBeat(atSampleIndex: beat.sampleIndex)
            }
            if index % secondSamples == 0 {
                result.append((Double(index) / sampleRateHz, meter.reading(atSampleIndex: index)))
            }
        }
    }
    return result
}

@Suite struct HeartRateMeterTests {
    @Test(arguments: [120.0, 40.0])
    func displayedRateSettlesWithinTenSecondsOfAStepFromEighty(to bpm: Double) throws {
        let step = 30.0
        let truth =
            SyntheticECG.regularBeats(bpm: 80, from: 0.5, to: step)
            + SyntheticECG.regularBeats(bpm: bpm, from: step, to: 70)
        let frames = SyntheticECG(sampleRateHz: 500, beatSeconds: truth, noiseMillivolts: 0.02).frames(seconds: 70)
        let shown = readings(frames, leadCount: 2, sampleRateHz: 500)
        for (seconds, reading) in shown where seconds >= 15 && seconds <= step {
            let rate = try #require(reading.beatsPerMinute)
            #expect(abs(rate - 80) < 1.5, "at \(seconds) s")
        }
        for (seconds, reading) in shown where seconds >= step + 10 {
            let rate = try #require(reading.beatsPerMinute)
            #expect(abs(rate - bpm) < 1.5, "at \(seconds) s")
        }
    }

    @Test func flagsAsystoleWithinFourSecondsOfTheLastBeat() throws {
        let truth = SyntheticECG.regularBeats(bpm: 80, from: 0.5, to: 20)
        let lastBeat = try #require(truth.last)
        let rate = 500.0
        let frames = SyntheticECG(sampleRateHz: rate, beatSeconds: truth, noiseMillivolts: 0.02).frames(seconds: 40)
        var detector = QRSDetector(sampleRateHz: rate, leadCount: 2)
        var meter = HeartRateMeter(sampleRateHz: rate)
        var firstAsystole: Double?
        var beatsAfter = 0
        frames.withUnsafeBufferPointer { all in
            for (index, start) in stride(from: 0, to: all.count, by: 2).enumerated() {
                if let beat = detector.process(UnsafeBufferPointer(rebasing: all[start..<start + 2])) {
                    meter.recordBeat(atSampleIndex: beat.sampleIndex)
                    if Double(beat.sampleIndex) / rate > lastBeat + 0.2 { beatsAfter += 1 }
                }
                if firstAsystole == nil, meter.reading(atSampleIndex: index).asystole {
                    firstAsystole = Double(index) / rate
                }
            }
        }
        let flagged = try #require(firstAsystole)
        #expect(flagged <= lastBeat + 4.05)
        #expect(flagged >= lastBeat + 3.9)
        #expect(beatsAfter == 0)
        #expect(meter.reading(atSampleIndex: frames.count / 2 - 1).asystole)
    }

    /// Asystole is the loss of a rhythm: silence after two beats (a detector that never locked on) is none,
    /// silence after a rhythm is, also after an unusable stretch.
    @Test func asystoleNeedsARhythmToLose() {
        var meter = HeartRateMeter(sampleRateHz: 100)
        for beat in [100, 180] { meter.recordBeat(atSampleIndex: beat) }
        #expect(!meter.reading(atSampleIndex: 800).asystole)
        for beat in [900, 980, 1060] { meter.recordBeat(atSampleIndex: beat) }
        #expect(meter.reading(atSampleIndex: 1470).asystole)
        meter.recordUnusableSignal(atSampleIndex: 1500)
        #expect(!meter.reading(atSampleIndex: 1550).asystole)
        #expect(
            meter.reading(atSampleIndex: 1905).asystole, "the rhythm learned before counts after the signal is back")
    }

    @Test func averagesTheLastIntervalsAndLeavesOutAMissedBeat() throws {
        var meter = HeartRateMeter(sampleRateHz: 100)
        for beat in [0, 100, 200, 300, 500, 600, 700] { meter.recordBeat(atSampleIndex: beat) }
        let reading = meter.reading(atSampleIndex: 750)
        #expect(reading.intervalsUsed == 5)
        #expect(try #require(reading.beatsPerMinute) == 60)
        #expect(reading.secondsSinceLastBeat == 0.5)
        #expect(!reading.asystole)
    }

    @Test func showsNoRateWhileTheSignalIsUnusableAndForgetsEarlierBeats() {
        var meter = HeartRateMeter(sampleRateHz: 100)
        for beat in stride(from: 0, through: 800, by: 80) { meter.recordBeat(atSampleIndex: beat) }
        meter.recordUnusableSignal(atSampleIndex: 850)
        let during = meter.reading(atSampleIndex: 900)
        #expect(during.beatsPerMinute == nil && !during.asystole && during.secondsSinceLastBeat == nil)
        #expect(meter.reading(atSampleIndex: 1000).beatsPerMinute == nil)
        #expect(meter.reading(atSampleIndex: 1000).secondsSinceLastBeat == 1.49)
        for beat in [1000, 1080, 1160] { meter.recordBeat(atSampleIndex: beat) }
        #expect(meter.reading(atSampleIndex: 1200).beatsPerMinute == 75)
    }

    @Test func followsAnIrregularRhythm() throws {
        var meter = HeartRateMeter(sampleRateHz: 250)
        var random = TestRandom(seed: 11)
        var time = 0
        var intervals: [Int] = []
        for _ in 0..<40 {
            let interval = Int(250 * (0.45 + 0.5 * random.nextUniform()))
            time += interval
            intervals.append(interval)
            meter.recordBeat(atSampleIndex: time)
        }
        let recent = intervals.suffix(8)
        let expected = 60 * 250 * Double(recent.count) / Double(recent.reduce(0, +))
        #expect(abs(try #require(meter.reading(atSampleIndex: time).beatsPerMinute) - expected) < 0.01)
        #expect(try #require(meter.reading(atSampleIndex: time).irregularity) > 0.1)
    }

    /// Irregularity: the median successive difference over the median interval; a regular rhythm with one
    /// premature beat and its pause reads (almost) 0, and fewer than 4 intervals give none.
    @Test func measuresIrregularityPastIsolatedEctopicBeats() throws {
        var meter = HeartRateMeter(sampleRateHz: 100)
        var time = 0
        for (index, interval) in [80, 80, 82, 80, 50, 110, 80, 81, 80].enumerated() {
            time += interval
            meter.recordBeat(atSampleIndex: time)
            if index < 3 { #expect(meter.reading(atSampleIndex: time).irregularity == nil) }
        }
        let irregularity = try #require(meter.reading(atSampleIndex: time).irregularity)
        #expect(irregularity <= 2.0 / 80, "\(irregularity)")
    }
}
