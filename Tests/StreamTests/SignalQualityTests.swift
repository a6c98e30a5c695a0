import Foundation
import Testing

@testable import Stream

/// Disturbances of known power added to clean recordings.
enum SignalQualityStress: Sendable, CustomStringConvertible {
    /// A sine of this amplitude (mV) and frequency on every lead.
    case wander(millivolts: Double, frequencyHz: Double)
    /// Gaussian noise on every lead at this SNR (relative to the lead's variance over the record), white up
    /// to 40 Hz and gone by 50 Hz: muscle noise as far as a 100 Hz model sees it.
    case muscle(snrDecibels: Double)
    /// A mains sine of this amplitude (mV) and frequency on every lead.
    case powerline(millivolts: Double, frequencyHz: Double)

    var description: String {
        switch self {
        case .wander(let millivolts, let frequencyHz): "wander \(millivolts) mV \(frequencyHz) Hz"
        case .muscle(let snrDecibels): "muscle noise \(snrDecibels) dB"
        case .powerline(let millivolts, let frequencyHz): "powerline \(millivolts) mV \(frequencyHz) Hz"
        }
    }

    /// `count` Gaussian samples of mean 0 and exactly `power` mean square (Box–Muller).
    static func gaussian(count: Int, power: Double, using generator: inout TestSupport.Generator) -> [Float] {
        var values = (0..<count).map { _ in
            let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
            let v = Double.random(in: 0..<1, using: &generator)
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
        let mean = values.reduce(0, +) / Double(count)
        let scale = (power / (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count))).squareRoot()
        for index in values.indices { values[index] = (values[index] - mean) * scale }
        return values.map(Float.init)
    }

    /// Noise white up to 40 Hz at `rateHz`: drawn at 100 Hz and, for higher rates, brought up by the
    /// pipeline's own resampler (which removes everything from 50 Hz), then scaled to `power`.
    static func bandLimited(
        count: Int,
        rateHz: Int,
        power: Double,
        using generator: inout TestSupport.Generator
    ) -> [Float] {
        let drawn = gaussian(count: count * 100 / rateHz + 200, power: 1, using: &generator)
        guard rateHz != 100 else { return Array(drawn.prefix(count)).map { $0 * Float(power.squareRoot()) } }
        let up = ResamplerTests.resample(drawn, design: ResamplerDesign(inputRateHz: 100, outputRateHz: rateHz))
        let kept = up.prefix(count)
        let measured = kept.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(kept.count)
        return kept.map { $0 * Float((power / measured).squareRoot()) }
    }

    /// `leads` (`[lead][instant]` at `rateHz`) with the disturbance added.
    func apply(to leads: [[Float]], rateHz: Int, seed: UInt64) -> [[Float]] {
        var generator = TestSupport.Generator(seed: seed)
        return leads.map { lead in
            let disturbance: [Float]
            switch self {
            case .wander(let millivolts, let frequencyHz), .powerline(let millivolts, let frequencyHz):
                let phase = Double.random(in: 0..<(2 * Double.pi), using: &generator)
                disturbance = lead.indices.map {
                    Float(millivolts * sin(2 * Double.pi * frequencyHz * Double($0) / Double(rateHz) + phase))
                }
            case .muscle(let snrDecibels):
                let mean = lead.reduce(0.0) { $0 + Double($1) } / Double(lead.count)
                let variance = lead.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(lead.count)
                let power = variance / pow(10, snrDecibels / 10)
                disturbance = Self.bandLimited(count: lead.count, rateHz: rateHz, power: power, using: &generator)
            }
            return zip(lead, disturbance).map { $0 + $1 }
        }
    }
}

@Suite struct SignalQualityTests {
    static let records100Hz = [
        "00008_lr", "00057_lr", "00172_lr", "00400_lr", "00618_lr", "01737_lr", "02776_lr", "03785_lr", "03948_lr",
        "08215_lr", "15897_lr",
    ].map { "ECG-classification---CNN1D-on-PTB-XL/" + $0 }
    static let records500Hz =
        ["ECGClassification_PTBXL/00008_hr"]
        + ["E07505", "E07506", "E07509", "E07514", "HR06000", "HR06002", "JS20003", "JS20012"].map { "torch_ecg/" + $0 }
        + ["A0003", "A0005", "E00005", "HR00008", "JS00001", "JS00005"].map { "12-lead-ecg-classifier/" + $0 }
    static let allRecords = records100Hz + records500Hz + ["wfdb-python/s0010_re"]

    /// The qualities of every window of a record's 12 standard leads, optionally disturbed, streamed at its
    /// own rate into a 100 Hz, 2.5 s / 0.5 s pipeline, with the windows' samples.
    static func windows(
        of path: String,
        stress: SignalQualityStress? = nil,
        seed: UInt64 = 1,
        edit: (inout [[Float]]) -> Void = { _ in }
    ) throws -> [(WindowInfo, [Float])] {
        let record = try WFDBRecord.read(path: try TestSupport.samplePath(path))
        let rateHz = Int(record.header.sampleRateHz)
        var leads = StreamPipelineTests.millivolts(record)
        if let stress { leads = stress.apply(to: leads, rateHz: rateHz, seed: seed) }
        edit(&leads)
        let interleaved = (0..<leads[0].count).flatMap { instant in leads.map { $0[instant] } }
        let pipeline = try StreamPipeline(
            header: try TestSupport.header(rateHz: rateHz),
            configuration: try TestSupport.configuration()
        )
        return try TestSupport.feed(interleaved, leadCount: 12, frameSamples: 37, pipeline: pipeline)
    }

    static func share(_ windows: [WindowInfo], where predicate: (SignalQuality) -> Bool) -> Double {
        Double(windows.count { predicate($0.quality) }) / Double(windows.count)
    }

    @Test(arguments: allRecords)
    func cleanRecordsRaiseNothing(path: String) throws {
        for (info, _) in try Self.windows(of: path) {
            #expect(info.quality.withoutBeatNoise == .clean, "\(path) at \(info.startSeconds) s: \(info.quality)")
            #expect((info.quality.beatNoiseRatio ?? 0) < SignalQualityThresholds.standard.maxBeatNoiseRatio)
        }
    }

    @Test(arguments: [100, 500])
    func baselineWanderDoesNotStopClassification(rateHz: Int) throws {
        let records = rateHz == 100 ? Self.records100Hz : Self.records500Hz
        for (index, path) in records.enumerated() {
            let stress = SignalQualityStress.wander(millivolts: 0.5, frequencyHz: 0.3)
            for (info, _) in try Self.windows(of: path, stress: stress, seed: UInt64(index)) {
                #expect(info.quality.isClassifiable && info.quality.noisyLeads.isEmpty, "\(path): \(info.quality)")
            }
        }
    }

    /// 6 dB muscle noise leaves ≥ 95% of windows classifiable; 0 dB makes ≥ 90% of them noisy.
    @Test(arguments: [(100, 6.0), (500, 6.0), (100, 0.0), (500, 0.0)])
    func muscleNoiseMakesWindowsNoisyOnlyWhenStrong(rateHz: Int, snrDecibels: Double) throws {
        let records = rateHz == 100 ? Self.records100Hz : Self.records500Hz
        var infos: [WindowInfo] = []
        for (index, path) in records.enumerated() {
            let stress = SignalQualityStress.muscle(snrDecibels: snrDecibels)
            infos += try Self.windows(of: path, stress: stress, seed: UInt64(index)).map(\.0)
        }
        let noisy = Self.share(infos) { $0.verdict == .noisySignal }
        if snrDecibels >= 6 {
            #expect(noisy <= 0.05, "\(noisy) of \(infos.count) windows noisy")
        } else {
            #expect(noisy >= 0.9, "\(noisy) of \(infos.count) windows noisy")
        }
    }

    @Test(arguments: [50.0, 60.0])
    func powerlineIsFlaggedAt500HzAndDoesNotStopClassification(frequencyHz: Double) throws {
        let stress = SignalQualityStress.powerline(millivolts: 0.1, frequencyHz: frequencyHz)
        let windows = try Self.windows(of: Self.records500Hz[0], stress: stress)
        for (info, _) in windows.dropFirst(4) {
            #expect(info.quality.powerlineLeads.count == 12 && info.quality.isClassifiable, "\(info.quality)")
        }
    }

    @Test func offLeadsAreMaskedAndTheRestClassified() throws {
        let path = Self.records100Hz[0]
        let clean = try Self.windows(of: path)
        let offV2 = try Self.windows(of: path) { leads in
            leads[7] = leads[7].map { _ in 0.01 }
        }
        let v2 = LeadSet(leadIndex: 7)
        for ((info, samples), (_, cleanSamples)) in zip(offV2, clean) {
            #expect(info.quality.verdict == .classifiable && info.quality.maskedLeads == v2)
            #expect(info.quality.leadQuality(leadIndex: 7) == .off && info.quality.leadQuality(leadIndex: 6) == .good)
            #expect(samples[(7 * 250)..<(8 * 250)].allSatisfy { $0 == 0 })
            #expect(samples[..<(7 * 250)] == cleanSamples[..<(7 * 250)])
            #expect(samples[(8 * 250)...] == cleanSamples[(8 * 250)...])
        }
    }

    @Test(arguments: [3, 4])
    func moreOffLeadsThanTheLimitStopClassification(offCount: Int) throws {
        let windows = try Self.windows(of: Self.records100Hz[1]) { leads in
            for lead in 6..<(6 + offCount) { leads[lead] = leads[lead].map { _ in 0.01 } }
        }
        for (info, samples) in windows {
            #expect(info.quality.offLeads.count == offCount)
            #expect(info.quality.verdict == (offCount > 3 ? .tooManyLeadsOff : .classifiable))
            // A window that is not classified is handed out as it is, nothing masked.
            #expect(info.quality.maskedLeads.count == (offCount > 3 ? 0 : offCount))
            #expect(samples[(6 * 250)..<(7 * 250)].allSatisfy { $0 == 0 } == (offCount <= 3))
        }
    }

    @Test func verdictPutsGapsFirstThenLeadsOffThenNoise() {
        let thresholds = SignalQualityThresholds.standard
        var quality = SignalQuality(
            flatLeads: LeadSet(rawValue: 0b1111),
            saturatedLeads: [],
            nonFiniteLeads: [],
            nonFiniteSampleCount: 0,
            missingSampleCount: 0,
            noisyLeads: LeadSet(rawValue: 0b1111_1111_0000)
        )
        quality.decideVerdict(thresholds, leadCount: 12)
        #expect(quality.verdict == .tooManyLeadsOff && quality.maskedLeads.isEmpty)
        quality.flatLeads = LeadSet(rawValue: 0b11)
        quality.decideVerdict(thresholds, leadCount: 12)
        #expect(quality.verdict == .noisySignal && quality.noisyLeads.count == 8 && quality.maskedLeads.isEmpty)
        quality.noisyLeads = LeadSet(rawValue: 0b1111_1100)
        quality.decideVerdict(thresholds, leadCount: 12)
        #expect(quality.verdict == .classifiable && quality.maskedLeads == LeadSet(rawValue: 0b11))
        quality.beatNoiseRatio = 0.6
        quality.decideVerdict(thresholds, leadCount: 12)
        #expect(quality.verdict == .noisySignal, "beats drowned in noise: no rate to trust")
        quality.beatNoiseRatio = 0.3
        quality.decideVerdict(thresholds, leadCount: 4)
        #expect(quality.verdict == .tooManyLeadsOff, "a 4-lead model masks at most one")
        quality.missingSampleCount = 1
        quality.decideVerdict(thresholds, leadCount: 12)
        #expect(quality.verdict == .missingSamples)
    }

    @Test func offLeadsAreNeverAlsoNoisy() {
        var quality = SignalQuality(
            flatLeads: [],
            saturatedLeads: LeadSet(leadIndex: 2),
            nonFiniteLeads: [],
            nonFiniteSampleCount: 0,
            missingSampleCount: 0,
            noisyLeads: LeadSet(rawValue: 0b110)
        )
        quality.decideVerdict(.standard, leadCount: 12)
        #expect(quality.noisyLeads == LeadSet(leadIndex: 1) && quality.leadQuality(leadIndex: 2) == .off)
    }
}
