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

    /// The wire name of a binary frame's format byte, for error messages.
    static func wireName(ofFrameFormatCode code: UInt8) -> String {
        switch code {
        case 1: "i16le"
        case 2: "f32le"
        default: "format code \(code)"
        }
    }
}
