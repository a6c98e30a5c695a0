/// The parts of a WFDB header (`.hea`) that locate and scale a single-segment record's samples.
///
/// Record line: `name nsig [fs[/counter[(base)]] [nsamp …]]`; signal lines: `file format[xN][:skew][+offset]
/// [gain[(baseline)][/units] [adcres [adczero [initval [checksum [blocksize [description]]]]]]]`
/// (PhysioNet's header(5) manual). Formats 16 and 212 are read; a `+offset` skips bytes at the start of the
/// file, which is how the PhysioNet/CinC Challenge's MAT v4 files (`16+24`) are read as format 16.
public struct WFDBHeader: Sendable, Equatable {
    /// One signal line.
    public struct Signal: Sendable, Equatable {
        /// The signal file's name, relative to the header's directory.
        public var fileName: String
        /// 16 or 212.
        public var format: Int
        /// Bytes to skip at the start of the file.
        public var byteOffset: Int
        /// Digital units per millivolt.
        public var gainPerMillivolt: Double
        /// The digital value of 0 mV.
        public var baseline: Double
        /// The description field: the lead name in ECG records.
        public var description: String
    }

    /// The record's name.
    public var recordName: String
    /// Samples per second per signal.
    public var sampleRateHz: Double
    /// Samples per signal; `nil` when the header leaves it to the file size.
    public var sampleCount: Int?
    /// The signals in header order.
    public var signals: [Signal]

    /// Parses header text.
    ///
    /// - Throws: ``StreamError/badRecord(path:reason:)`` naming the line and field.
    public static func parse(_ text: String, path: String) throws(StreamError) -> WFDBHeader {
        // Character.isNewline also matches "\r\n", which Swift keeps as one character.
        let lines = text.split(whereSeparator: \.isNewline)
            .map { $0.drop(while: { $0 == " " || $0 == "\t" }) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard let recordLine = lines.first else { throw .badRecord(path: path, reason: "empty header") }
        let fields = recordLine.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2 else {
            throw .badRecord(path: path, reason: "record line needs a name and a signal count")
        }
        guard !fields[0].contains("/") else {
            throw .badRecord(path: path, reason: "multi-segment records are not supported")
        }
        guard let signalCount = Int(fields[1]), signalCount >= 1, signalCount <= 256 else {
            throw .badRecord(path: path, reason: "bad signal count '\(fields[1].escapedForLog)'")
        }
        var sampleRateHz = 250.0
        if fields.count > 2 {
            let rateText = fields[2].prefix(while: { $0 != "/" && $0 != "(" })
            guard let rate = Double(rateText), rate.isFinite, rate > 0 else {
                throw .badRecord(path: path, reason: "bad sampling frequency '\(fields[2].escapedForLog)'")
            }
            sampleRateHz = rate
        }
        var sampleCount: Int?
        if fields.count > 3 {
            guard let count = Int(fields[3]), count >= 0 else {
                throw .badRecord(path: path, reason: "bad sample count '\(fields[3].escapedForLog)'")
            }
            sampleCount = count > 0 ? count : nil
        }
        guard lines.count - 1 >= signalCount else {
            throw .badRecord(
                path: path,
                reason: "header announces \(signalCount) signals but has \(lines.count - 1) signal lines"
            )
        }
        var signals: [Signal] = []
        for (index, line) in lines[1...signalCount].enumerated() {
            signals.append(try parseSignal(String(line), number: index + 1, path: path))
        }
        return WFDBHeader(
            recordName: String(fields[0]),
            sampleRateHz: sampleRateHz,
            sampleCount: sampleCount,
            signals: signals
        )
    }

    private static func parseSignal(_ line: String, number: Int, path: String) throws(StreamError) -> Signal {
        // The description is everything after the eighth field and may contain spaces.
        var fields: [Substring] = []
        var rest = Substring(line)
        while fields.count < 8, let end = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) {
            fields.append(rest[..<end])
            rest = rest[end...].drop(while: { $0 == " " || $0 == "\t" })
        }
        if !rest.isEmpty { fields.append(rest) }
        let place = "signal \(number)"
        guard fields.count >= 2 else {
            throw .badRecord(path: path, reason: "\(place): needs a file name and a format")
        }
        let (format, offset) = try parseFormat(fields[1], place: place, path: path)
        var gain = 200.0
        var baseline: Double?
        if fields.count > 2 {
            (gain, baseline) = try parseGain(fields[2], place: place, path: path)
        }
        if baseline == nil, fields.count > 4 {
            guard let zero = Double(fields[4]) else {
                throw .badRecord(path: path, reason: "\(place): bad ADC zero '\(fields[4].escapedForLog)'")
            }
            baseline = zero
        }
        let fileName = String(fields[0])
        if let problem = fileNameProblem(fileName) {
            throw .badRecord(path: path, reason: "\(place): signal file '\(fileName.escapedForLog)' \(problem)")
        }
        if let problem = SampleFormat.int16ScalingProblem(gain: gain, baseline: baseline ?? 0) {
            throw .badRecord(path: path, reason: "\(place): \(problem)")
        }
        let description = fields.count > 8 ? String(fields[8]) : ""
        return Signal(
            fileName: fileName,
            format: format,
            byteOffset: offset,
            gainPerMillivolt: gain,
            baseline: baseline ?? 0,
            description: description
        )
    }

    /// Why a signal file name could lead outside the record's directory, or `nil` when it stays inside: it must be
    /// relative, without `..` components or NUL. Symbolic links are checked when the file is opened.
    private static func fileNameProblem(_ name: String) -> String? {
        if name.hasPrefix("/") { return "is an absolute path; it must lie in the record's directory" }
        if name.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            return "leads out of the record's directory"
        }
        if name.utf8.contains(0) { return "contains NUL" }
        return nil
    }

    private static func parseFormat(_ field: Substring, place: String, path: String) throws(StreamError) -> (Int, Int) {
        var text = field
        var offset = 0
        if let plus = text.firstIndex(of: "+") {
            guard let value = Int(text[text.index(after: plus)...]), value >= 0 else {
                throw .badRecord(path: path, reason: "\(place): bad byte offset in '\(field.escapedForLog)'")
            }
            offset = value
            text = text[..<plus]
        }
        if let colon = text.firstIndex(of: ":") {
            guard Int(text[text.index(after: colon)...]) == 0 else {
                throw .badRecord(
                    path: path,
                    reason: "\(place): skewed signals are not supported ('\(field.escapedForLog)')"
                )
            }
            text = text[..<colon]
        }
        if let times = text.firstIndex(of: "x") {
            guard Int(text[text.index(after: times)...]) == 1 else {
                throw .badRecord(
                    path: path,
                    reason: "\(place): multiple samples per frame are not supported ('\(field.escapedForLog)')"
                )
            }
            text = text[..<times]
        }
        guard let format = Int(text), format == 16 || format == 212 else {
            throw .badRecord(
                path: path,
                reason: "\(place): format '\(field.escapedForLog)' is not supported (16 and 212 are)"
            )
        }
        return (format, offset)
    }

    /// `gain[(baseline)][/units]`; a gain of 0 means the default 200; µV units are converted to mV.
    private static func parseGain(
        _ field: Substring,
        place: String,
        path: String
    ) throws(StreamError) -> (Double, Double?) {
        var text = field
        var unitScale = 1.0
        if let slash = text.firstIndex(of: "/") {
            let units = text[text.index(after: slash)...].lowercased()
            switch units {
            case "mv": unitScale = 1
            case "uv", "µv": unitScale = 1000
            default: throw .badRecord(path: path, reason: "\(place): units '\(units.escapedForLog)' are not mV or uV")
            }
            text = text[..<slash]
        }
        var baseline: Double?
        if let open = text.firstIndex(of: "("), let close = text.firstIndex(of: ")"), open < close {
            guard let value = Double(text[text.index(after: open)..<close]) else {
                throw .badRecord(path: path, reason: "\(place): bad baseline in '\(field.escapedForLog)'")
            }
            baseline = value
            text = text[..<open]
        }
        guard let gain = Double(text), gain.isFinite, gain >= 0 else {
            throw .badRecord(path: path, reason: "\(place): bad gain '\(field.escapedForLog)'")
        }
        return ((gain == 0 ? 200 : gain) * unitScale, baseline)
    }
}
