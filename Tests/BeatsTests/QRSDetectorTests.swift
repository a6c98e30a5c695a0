import Foundation
import Testing

@testable import Beats

/// Runs a detector over interleaved frames and returns its beats.
func detectBeats(_ frames: [Float], leadCount: Int, sampleRateHz: Double) -> (
    beats: [DetectedBeat], detector: QRSDetector
) {
    var detector = QRSDetector(sampleRateHz: sampleRateHz, leadCount: leadCount)
    let beats = frames.withUnsafeBufferPointer { detector.process(interleaved: $0) }
    return (beats, detector)
}

/// True beats found (within `toleranceSeconds`) and detections matching none, after `fromSeconds`.
func compare(
    _ beats: [DetectedBeat],
    truth: [Double],
    sampleRateHz: Double,
    fromSeconds: Double,
    toleranceSeconds: Double = 0.075
) -> (found: Int, missed: Int, extra: Int) {
    let detected = beats.map { Double($0.sampleIndex) / sampleRateHz }.filter { $0 >= fromSeconds - 0.1 }
    let expected = truth.filter { $0 >= fromSeconds }
    let found = expected.count { t in detected.contains { abs($0 - t) <= toleranceSeconds } }
    let extra = detected.count { d in d >= fromSeconds && !truth.contains { abs($0 - d) <= toleranceSeconds } }
    return (found, expected.count - found, extra)
}

@Suite struct QRSDetectorTests {
    @Test(arguments: [100.0, 250.0, 360.0, 500.0, 1000.0])
    func findsEveryBeatOfARegularRhythmWithinTheDelayBound(sampleRateHz: Double) {
        let truth = SyntheticECG.regularBeats(bpm: 75, from: 0.5, to: 30)
        let ecg = SyntheticECG(sampleRateHz: sampleRateHz, beatSeconds: truth)
        let (beats, detector) = detectBeats(ecg.frames(seconds: 30), leadCount: 2, sampleRateHz: sampleRateHz)
        let result = compare(beats, truth: truth, sampleRateHz: sampleRateHz, fromSeconds: 4, toleranceSeconds: 0.05)
        #expect(result.missed == 0)
        #expect(result.extra == 0)
        #expect(Double(detector.maxDelaySamples) / sampleRateHz <= 0.3)
        for beat in beats where !beat.foundBySearchBack {
            #expect(beat.emittedAtSampleIndex - beat.sampleIndex <= detector.maxDelaySamples)
        }
    }

    @Test func interleavedFramesGiveTheBeatsOfFrameByFrameProcessing() {
        let ecg = SyntheticECG(sampleRateHz: 250, beatSeconds: SyntheticECG.regularBeats(bpm: 70, from: 0.5, to: 12))
        let frames = ecg.frames(seconds: 12)
        var oneByOne = QRSDetector(sampleRateHz: 250, leadCount: 2)
        var expected: [DetectedBeat] = []
        for start in stride(from: 0, to: frames.count, by: 2) {
            if let beat = oneByOne.process(Array(frames[start..<start + 2])) { expected.append(beat) }
        }
        var detector = QRSDetector(sampleRateHz: 250, leadCount: 2)
        // a trailing partial frame is left alone
        let beats = (frames + [0.5]).withUnsafeBufferPointer { detector.process(interleaved: $0) }
        #expect(beats.count >= 10)
        #expect(beats.map(\.sampleIndex) == expected.map(\.sampleIndex))
        #expect(detector.lastBeatSampleIndex == oneByOne.lastBeatSampleIndex)
    }

    @Test(arguments: [1.2, 1.35, 1.5])
    func doesNotCountTallTWavesAsBeats(tWaveMillivolts: Double) {
        for bpm in [50.0, 80.0, 110.0] {
            let truth = SyntheticECG.regularBeats(bpm: bpm, from: 0.4, to: 40)
            let ecg = SyntheticECG(sampleRateHz: 500, beatSeconds: truth, tWaveMillivolts: tWaveMillivolts)
            let (beats, _) = detectBeats(ecg.frames(seconds: 40), leadCount: 2, sampleRateHz: 500)
            let result = compare(beats, truth: truth, sampleRateHz: 500, fromSeconds: 4)
            #expect(result.extra == 0, "T wave \(tWaveMillivolts) mV at \(bpm) bpm")
            #expect(result.missed == 0, "T wave \(tWaveMillivolts) mV at \(bpm) bpm")
        }
    }

    @Test func findsBeatsThroughNoiseAndBaselineWander() {
        let truth = SyntheticECG.regularBeats(bpm: 90, from: 0.3, to: 60)
        let ecg = SyntheticECG(
            sampleRateHz: 360,
            beatSeconds: truth,
            noiseMillivolts: 0.05,
            wanderMillivolts: 0.5,
            seed: 7
        )
        let (beats, detector) = detectBeats(ecg.frames(seconds: 60), leadCount: 2, sampleRateHz: 360)
        let result = compare(beats, truth: truth, sampleRateHz: 360, fromSeconds: 4)
        #expect(result.missed == 0)
        #expect(result.extra == 0)
        #expect((detector.noiseRatio ?? 1) < 0.5)
    }

    @Test func ignoresAnArtefactOfOneLeadEarlyInTheCycleButKeepsPrematureBeats() {
        let regular = SyntheticECG.regularBeats(bpm: 60, from: 0.5, to: 40)
        // Every fourth cycle from 6 s carries a premature beat at 0.6 of the RR interval, seen by both leads; the
        // cycle after each carries a sharp biphasic spike (±1.8 mV) at the same point on lead 0 alone.
        let premature = stride(from: 6.5, to: 38, by: 4).map { $0 + 0.6 }
        let spikes = premature.map { $0 + 1 }
        let truth = (regular + premature).sorted()
        var frames = SyntheticECG(sampleRateHz: 360, beatSeconds: truth).frames(seconds: 40)
        for spike in spikes {
            for sample in Int((spike - 0.05) * 360)...Int((spike + 0.05) * 360) {
                let z = (Double(sample) / 360 - spike) / 0.008
                frames[2 * sample] += Float(-3 * z * exp(-0.5 * z * z))
            }
        }
        let (beats, _) = detectBeats(frames, leadCount: 2, sampleRateHz: 360)
        let result = compare(beats, truth: truth, sampleRateHz: 360, fromSeconds: 4)
        #expect(result.missed == 0)
        #expect(result.extra == 0)
    }

    @Test func reportsNoBeatOnAFlatNoisyLine() {
        let ecg = SyntheticECG(
            sampleRateHz: 500,
            beatSeconds: SyntheticECG.regularBeats(bpm: 70, from: 0.5, to: 10),
            noiseMillivolts: 0.01,
            seed: 3
        )
        let (beats, _) = detectBeats(ecg.frames(seconds: 40), leadCount: 2, sampleRateHz: 500)
        #expect(beats.allSatisfy { Double($0.sampleIndex) / 500 < 10.2 })
    }

    @Test func keepsDetectingOnTheOtherLeadWhenOneLeadIsOff() {
        let truth = SyntheticECG.regularBeats(bpm: 70, from: 0.5, to: 30)
        var frames = SyntheticECG(sampleRateHz: 500, beatSeconds: truth, leadGains: [1.0, 0.8]).frames(seconds: 30)
        for sample in (10 * 500)..<(30 * 500) { frames[2 * sample] = .nan }
        let (beats, detector) = detectBeats(frames, leadCount: 2, sampleRateHz: 500)
        let result = compare(beats, truth: truth, sampleRateHz: 500, fromSeconds: 4)
        #expect(result.missed == 0)
        #expect(result.extra == 0)
        #expect(detector.usableLeadCount == 1)
        #expect(detector.trustedLead == 1)
        #expect(detector.leadWeights == [0, 1])
    }

    @Test func startsCleanOnARecordFarOffTheZeroLine() {
        let truth = SyntheticECG.regularBeats(bpm: 60, from: 0.5, to: 20)
        var frames = SyntheticECG(sampleRateHz: 360, beatSeconds: truth).frames(seconds: 20)
        for index in frames.indices { frames[index] += 4 }
        let (beats, _) = detectBeats(frames, leadCount: 2, sampleRateHz: 360)
        let result = compare(beats, truth: truth, sampleRateHz: 360, fromSeconds: 4)
        #expect(result.missed == 0)
        #expect(result.extra == 0)
    }

    @Test func bandPassPassesTheQRSBandAndStopsBaselineWander() {
        let rate = 500.0
        let high = Biquad.butterworthHighPass(cutoffHz: 5, sampleRateHz: rate)
        let low = Biquad.butterworthLowPass(cutoffHz: 15, sampleRateHz: rate)
        func gain(_ hz: Double) -> Double {
            high.magnitude(atHz: hz, sampleRateHz: rate) * low.magnitude(atHz: hz, sampleRateHz: rate)
        }
        #expect(abs(high.magnitude(atHz: 5, sampleRateHz: rate) - 0.5.squareRoot()) < 1e-3)
        #expect(abs(low.magnitude(atHz: 15, sampleRateHz: rate) - 0.5.squareRoot()) < 1e-3)
        #expect(gain(9) > 0.8)
        #expect(gain(0.3) < 0.01)
        #expect(gain(50) < 0.1)
    }
}
