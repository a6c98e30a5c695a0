import Foundation
import Testing

@testable import Stream

@Suite struct SignalQualityMeterTests {
    /// Feeds `leads` (`[lead][instant]`, equal rates in and out) to a meter, one instant at a time.
    static func meter(
        feeding leads: [[Float]],
        rateHz: Int,
        windowSamples: Int = 250,
        hopSamples: Int = 50
    ) -> SignalQualityMeter {
        let meter = SignalQualityMeter(
            leadCount: leads.count,
            modelRateHz: rateHz,
            inputRateHz: rateHz,
            bandEdgeHz: Double(rateHz) / 2,
            windowSamples: windowSamples,
            hopSamples: hopSamples,
            thresholds: .standard
        )
        var instant = [Float](repeating: 0, count: leads.count)
        for index in leads[0].indices {
            for lead in leads.indices { instant[lead] = leads[lead][index] }
            meter.appendInput(instant)
            meter.appendOutput(instant)
            meter.testOnly_checkInvariants()
        }
        return meter
    }

    @Test(arguments: [
        (250, 50, 10, 10), (250, 1, 10, 1), (500, 100, 50, 50), (1250, 250, 50, 50), (250, 125, 10, 5), (7, 7, 10, 7),
    ])
    func blocksDivideWindowAndHop(window: Int, hop: Int, longest: Int, expected: Int) {
        let block = SignalQualityMeter.blockSamples(windowSamples: window, hopSamples: hop, longestSamples: longest)
        #expect(block == expected)
        #expect(window % block == 0 && hop % block == 0)
    }

    /// White noise of known power on a 1 Hz sine: the estimate is the noise's share of the window's power,
    /// read from the quietest quarter of blocks, so it reads low by a known factor (about 0.7 for Gaussian
    /// noise in 0.1 s blocks) and never high.
    @Test(arguments: [20.0, 10, 6, 3, 0, -6])
    func noiseRatioFollowsTheNoisePower(snrDecibels: Double) {
        var generator = TestSupport.Generator(seed: 7)
        let count = 1000
        let noisePower = 0.5 / pow(10, snrDecibels / 10)
        let noise = SignalQualityStress.gaussian(count: count, power: noisePower, using: &generator)
        let lead = (0..<count).map { Float(sin(2 * Double.pi * Double($0) / 100)) + noise[$0] }
        let measured = Self.meter(feeding: [lead], rateHz: 100).measures(lead: 0)
        let share = noisePower / (0.5 + noisePower)
        #expect(measured.noiseRatio > 0.5 * share && measured.noiseRatio < 1.0 * share, "\(measured)")
    }

    @Test(arguments: [(0.5, 6.0), (0.45, 4.92), (0.4, 3.75)])
    func secondDifferenceGainIsItsMeanOverTheBand(bandFraction: Double, expected: Double) {
        let steps = 100_000
        var sum = 0.0
        for step in 0..<steps {
            let omega = 2 * Double.pi * bandFraction * (Double(step) + 0.5) / Double(steps)
            sum += 16 * pow(sin(omega / 2), 4)
        }
        let gain = SignalQualityMeter.secondDifferenceGain(bandFraction: bandFraction)
        #expect(abs(gain - sum / Double(steps)) < 1e-6 && abs(gain - expected) < 0.01)
    }

    @Test(arguments: [0.2, 0.4, 1.0, 2.0])
    func wanderIsTheMovementOfTheBaselineWithinTheWindow(slopeMillivoltsPerSecond: Double) {
        let lead = (0..<1000).map { Float(slopeMillivoltsPerSecond * Double($0) / 100) }
        let meter = Self.meter(feeding: [lead], rateHz: 100)
        let measured = meter.measures(lead: 0)
        // A ramp leaves a second-order low-pass with a constant lag, so the excursion is the ramp's rise.
        #expect(
            abs(measured.wanderMillivolts - 2.5 * slopeMillivoltsPerSecond) < 0.01 * slopeMillivoltsPerSecond + 1e-4)
        var quality = SignalQuality.clean
        meter.assess(into: &quality)
        #expect(quality.wanderingLeads.contains(leadIndex: 0) == (2.5 * slopeMillivoltsPerSecond > 3))
        #expect(quality.noisyLeads.isEmpty)
    }

    /// The flat-line check reads each window's peak-to-peak from the blocks' extremes: exactly the last window's
    /// samples, so a spike inside the window makes a lead move and one just before it does not.
    @Test func peakToPeakIsTheLastWindowsExactly() {
        let count = 1000
        let window = 250
        let wobble = (0..<count).map { 1 + Float($0 % 2) * 0.004 }
        var spikeInside = wobble
        spikeInside[count - window] = 0.5
        var spikeBefore = wobble
        spikeBefore[count - window - 1] = 0.5
        let meter = Self.meter(feeding: [wobble, spikeInside, spikeBefore], rateHz: 100, windowSamples: window)
        #expect(meter.measures(lead: 0).peakToPeakMillivolts == (1 + Float(0.004)) - 1)
        #expect(meter.measures(lead: 1).peakToPeakMillivolts == (1 + Float(0.004)) - 0.5)
        #expect(meter.measures(lead: 2).peakToPeakMillivolts == (1 + Float(0.004)) - 1)
        var quality = SignalQuality.clean
        meter.assess(into: &quality)
        #expect(SignalQualityThresholds.standard.flatLinePeakToPeakMillivolts == 0.005)
        #expect(quality.flatLeads == [LeadSet(leadIndex: 0), LeadSet(leadIndex: 2)])
    }

    @Test(arguments: [(50.0, 500), (60.0, 500), (50.0, 1000), (60.0, 250)])
    func mainsAmplitudeIsMeasuredAtTheInputRate(frequencyHz: Double, rateHz: Int) {
        let lead = (0..<(10 * rateHz)).map {
            Float(0.1 * sin(2 * Double.pi * frequencyHz * Double($0) / Double(rateHz)))
        }
        let meter = Self.meter(feeding: [lead], rateHz: rateHz, windowSamples: rateHz * 5 / 2, hopSamples: rateHz / 2)
        #expect(abs(meter.measures(lead: 0).mainsMillivolts - 0.1) < 0.003)
    }

    @Test func mainsIsNotMeasuredAt100Hz() {
        let lead = (0..<1000).map { Float(0.1 * sin(2 * Double.pi * 50 * Double($0) / 100 + 0.5)) }
        #expect(Self.meter(feeding: [lead], rateHz: 100).measures(lead: 0).mainsMillivolts == 0)
    }

    @Test func aBaselineStartsWithoutTransient() {
        let lead = [Float](repeating: 300, count: 500)
        let measured = Self.meter(feeding: [lead], rateHz: 100).measures(lead: 0)
        #expect(measured.wanderMillivolts == 0 && measured.noiseRatio == 0 && measured.varianceMillivoltsSquared == 0)
    }
}
