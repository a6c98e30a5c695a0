/// How samples are written after the header line.
public enum SampleFormat: Sendable, Equatable {
    /// Binary frames of 16-bit signed little-endian integers; millivolts = (value − baseline) / gain.
    ///
    /// `gain` (units per mV, > 0) and `baseline` (units) hold one value per lead, in the order sent.
    /// The rails (−32768 and 32767) mark saturated samples.
    case int16(gain: [Double], baseline: [Double])
    /// Binary frames of 32-bit IEEE-754 little-endian floats, in millivolts.
    case float32
    /// Text lines, one per sampling instant: the leads' values in millivolts, separated by commas.
    case csv

    /// The name used in the header's `format` field: `i16le`, `f32le` or `csv`.
    public var wireName: String {
        switch self {
        case .int16: "i16le"
        case .float32: "f32le"
        case .csv: "csv"
        }
    }

    /// Bytes per sample in a binary frame; `nil` for CSV.
    public var bytesPerSample: Int? {
        switch self {
        case .int16: 2
        case .float32: 4
        case .csv: nil
        }
    }

    /// The format byte of a binary frame (``SampleFrame``); `nil` for CSV.
    public var frameFormatCode: UInt8? {
        switch self {
        case .int16: 1
        case .float32: 2
        case .csv: nil
        }
    }

    /// Largest magnitude a 16-bit sample may scale to, mV: far beyond any body-surface potential, yet small enough
    /// that filters and squared amplitudes stay finite in `Float`.
    static let maxScaledMillivolts = 1e6

    /// Why `gain` (units per mV) and `baseline` (units) cannot scale 16-bit samples, or `nil` when they can.
    ///
    /// The gain must be a positive normal number (not zero, negative, subnormal such as 1e-320, or non-finite)
    /// and the baseline finite; and both rails must scale to at most ``maxScaledMillivolts``, since a gain that
    /// makes them overflow turns every sample non-finite, and one that makes them huge turns it into nonsense.
    static func int16ScalingProblem(gain: Double, baseline: Double) -> String? {
        guard gain.isNormal, gain > 0 else { return "gain \(gain) is not a positive number of units per mV" }
        guard baseline.isFinite else { return "baseline \(baseline) is not finite" }
        let largest = max(abs(Double(Int16.min) - baseline), abs(Double(Int16.max) - baseline)) / gain
        guard largest <= maxScaledMillivolts else {
            return "gain \(gain) with baseline \(baseline) scales 16-bit samples up to \(largest) mV "
                + "(at most \(Int(maxScaledMillivolts)) mV make sense)"
        }
        return nil
    }

    /// The wire name of a binary frame's format byte, for error messages.
    static func wireName(ofFrameFormatCode code: UInt8) -> String {
        switch code {
        case 1: "i16le"
        case 2: "f32le"
        default: "format code \(code)"
        }
    }
}
