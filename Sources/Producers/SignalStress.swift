import Foundation
import Stream

/// A disturbance added to a recording, of the kinds a monitored patient's signal carries: the noise-stressed
/// copies of an alarm evaluation, and replays that exercise the signal-quality checks.
///
/// Every kind is defined in millivolts on the record's own sample grid and is deterministic for a seed.
public enum SignalStress: Sendable, Equatable, CustomStringConvertible {
    /// A sinusoidal baseline drift on every lead (respiration, movement), with a random phase per lead.
    case baselineWander(amplitudeMillivolts: Double, frequencyHz: Double)
    /// Muscle (EMG) noise: Gaussian, high-passed at 5 Hz, scaled per lead to the given signal-to-noise ratio,
    /// where the signal's power is the lead's variance over the record.
    case muscleNoise(snrDecibels: Double)
    /// Mains interference: a sinusoid at the mains frequency, as sampled at the record's rate (aliased when the
    /// rate is below twice the frequency), with a random phase per lead.
    case powerline(amplitudeMillivolts: Double, frequencyHz: Double)
    /// One electrode off: the lead reads a flat 0 mV.
    case leadOff(StandardLead)

    /// Parses `wander:AMPLITUDE_MV:FREQUENCY_HZ`, `muscle:SNR_DB`, `powerline:AMPLITUDE_MV:FREQUENCY_HZ` or
    /// `lead-off:LEAD`.
    ///
    /// - Throws: ``ProducerError/badStress(_:reason:)`` naming the part that is wrong.
    public init(parsing text: String) throws(ProducerError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func number(_ index: Int, _ what: String) throws(ProducerError) -> Double {
            guard parts.indices.contains(index), let value = Double(parts[index]), value.isFinite else {
                throw .badStress(text, reason: "\(what) must be a finite number")
            }
            return value
        }
        switch parts[0] {
        case "wander" where parts.count == 3:
            self = .baselineWander(
                amplitudeMillivolts: try number(1, "amplitude"), frequencyHz: try number(2, "frequency"))
        case "muscle" where parts.count == 2:
            self = .muscleNoise(snrDecibels: try number(1, "SNR"))
        case "powerline" where parts.count == 3:
            self = .powerline(amplitudeMillivolts: try number(1, "amplitude"), frequencyHz: try number(2, "frequency"))
        case "lead-off" where parts.count == 2:
            guard let lead = StandardLead(name: parts[1]) else {
                throw .badStress(text, reason: "'\(parts[1])' is not a standard lead")
            }
            self = .leadOff(lead)
        default:
            throw .badStress(
                text,
                reason: "expected wander:MV:HZ, muscle:SNR_DB, powerline:MV:HZ or lead-off:LEAD"
            )
        }
        if case .baselineWander(let amplitude, let frequency) = self, amplitude < 0 || frequency <= 0 {
            throw .badStress(text, reason: "amplitude must be ≥ 0 and frequency > 0")
        }
        if case .powerline(let amplitude, let frequency) = self, amplitude < 0 || frequency <= 0 {
            throw .badStress(text, reason: "amplitude must be ≥ 0 and frequency > 0")
        }
    }

    /// The form ``init(parsing:)`` reads.
    public var description: String {
        switch self {
        case .baselineWander(let amplitude, let frequency): "wander:\(amplitude):\(frequency)"
        case .muscleNoise(let snr): "muscle:\(snr)"
        case .powerline(let amplitude, let frequency): "powerline:\(amplitude):\(frequency)"
        case .leadOff(let lead): "lead-off:\(lead.name)"
        }
    }

    /// The record with the disturbance added; samples that would leave the 16-bit range are held at its rails.
    ///
    /// - Parameters:
    ///   - record: The clean record.
    ///   - seed: Phases and noise draw from this seed.
    public func applied(to record: WFDBRecord, seed: UInt64) -> WFDBRecord {
        var generator = SplitMix64(seed: seed)
        let rate = record.header.sampleRateHz
        var samples = record.samples
        for (signal, lead) in record.standardLeadSignals {
            let gain = record.header.signals[signal].gainPerMillivolt
            let baseline = record.header.signals[signal].baseline
            let digital = samples[signal]
            let disturbance: [Double]
            switch self {
            case .baselineWander(let amplitude, let frequency), .powerline(let amplitude, let frequency):
                let phase = Double.random(in: 0..<(2 * Double.pi), using: &generator)
                disturbance = digital.indices.map {
                    amplitude * sin(2 * Double.pi * frequency * Double($0) / rate + phase)
                }
            case .muscleNoise(let snr):
                let millivolts = digital.map { (Double($0) - baseline) / gain }
                let mean = millivolts.reduce(0, +) / Double(max(1, millivolts.count))
                let power = millivolts.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, millivolts.count))
                disturbance = Self.muscle(
                    count: digital.count, rateHz: rate, power: power / pow(10, snr / 10), using: &generator)
            case .leadOff(let off):
                guard off == lead else { continue }
                disturbance = digital.map { -(Double($0) - baseline) / gain }
            }
            samples[signal] = zip(digital, disturbance).map { value, added in
                let shifted = (Double(value) + added * gain).rounded()
                return Int16(max(Double(Int16.min + 1), min(Double(Int16.max), shifted)))
            }
        }
        return WFDBRecord(header: record.header, replacingSamples: samples)
    }

    /// Gaussian noise through a one-pole high-pass at 5 Hz, scaled to `power` (mV²).
    private static func muscle(
        count: Int,
        rateHz: Double,
        power: Double,
        using generator: inout SplitMix64
    ) -> [Double] {
        let pole = exp(-2 * Double.pi * 5 / rateHz)
        var previousInput = 0.0
        var previousOutput = 0.0
        var noise = [Double](repeating: 0, count: count)
        for index in noise.indices {
            let input = generator.nextGaussian()
            previousOutput = pole * (previousOutput + input - previousInput)
            previousInput = input
            noise[index] = previousOutput
        }
        let measured = noise.reduce(0) { $0 + $1 * $1 } / Double(max(1, count))
        let scale = measured > 0 ? (power / measured).squareRoot() : 0
        return noise.map { $0 * scale }
    }
}
