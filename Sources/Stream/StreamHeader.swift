/// The first line of a stream: a JSON object naming the stream, its rate, its leads and its sample format.
///
/// Example: `{"version":1,"stream":"bed-12","rate_hz":500,"leads":["I","II","V1","V2","V3","V4","V5","V6"],
/// "format":"i16le","gain":1000,"start":"2024-05-01T10:00:00Z"}`. Unknown keys are refused so that a typo
/// is an error rather than a silently ignored setting. docs/protocol.md is the full specification.
public struct StreamHeader: Sendable, Equatable {
    /// The protocol version this code speaks.
    public static let protocolVersion = 1
    /// Rates accepted, Hz.
    public static let sampleRateRangeHz = 100...1000
    /// Longest stream id accepted, characters.
    public static let maxStreamIDLength = 64
    /// Longest `start` value accepted, characters.
    public static let maxStartLength = 64

    /// Names the stream in logs, alerts and results: 1…64 characters from `A-Z a-z 0-9 . _ : @ -`.
    public var streamID: String
    /// Samples per second per lead, 100…1000.
    public var sampleRateHz: Int
    /// The leads in the order their samples are sent.
    public var leads: [StandardLead]
    /// How the samples after the header are encoded.
    public var format: SampleFormat
    /// When the first sample was taken, as the producer spells it (e.g. ISO 8601); passed through unchanged.
    public var start: String?
    /// The producer sends a recording, not a live patient: it can wait, so the daemon reads it no faster than it
    /// classifies it and loses no window (`"recorded":true`); a live stream keeps its newest window instead.
    public var isRecorded: Bool

    /// Creates a header, checking every field as ``parse(line:)`` does.
    ///
    /// - Throws: ``StreamError/badHeader(reason:)`` or ``StreamError/duplicateLead(name:)``.
    public init(
        streamID: String,
        sampleRateHz: Int,
        leads: [StandardLead],
        format: SampleFormat,
        start: String? = nil,
        isRecorded: Bool = false
    ) throws(StreamError) {
        self.streamID = streamID
        self.sampleRateHz = sampleRateHz
        self.leads = leads
        self.format = format
        self.start = start
        self.isRecorded = isRecorded
        try validate()
    }

    /// Parses a header line (without its newline).
    ///
    /// - Throws: ``StreamError/badHeader(reason:)`` naming the field, ``StreamError/unknownLead(name:)``,
    ///   ``StreamError/duplicateLead(name:)``.
    public static func parse(line: some Collection<UInt8>) throws(StreamError) -> StreamHeader {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            throw .badHeader(reason: "not JSON: \(error)")
        }
        guard let members = value.objectMembers else {
            throw .badHeader(reason: "expected a JSON object, found \(value.typeName)")
        }
        var fields: [String: JSONValue] = [:]
        for (key, member) in members {
            guard Self.knownKeys.contains(key) else { throw .badHeader(reason: "unknown key '\(key.escapedForLog)'") }
            guard fields.updateValue(member, forKey: key) == nil else {
                throw .badHeader(reason: "key '\(key)' appears twice")
            }
        }
        if let version = fields["version"] {
            guard case .number(let number) = version, number == Double(protocolVersion) else {
                throw .badHeader(
                    reason: "unsupported version \(version.serialized.escapedForLog), "
                        + "this side speaks \(protocolVersion)"
                )
            }
        }
        let streamID = try requireString(fields, "stream")
        let sampleRateHz = try requireInteger(fields, "rate_hz")
        let leads = try parseLeads(fields["leads"])
        let format = try parseFormat(fields, leadCount: leads.count)
        var start: String?
        if let value = fields["start"] {
            guard case .string(let text) = value else { throw .badHeader(reason: "'start' must be a string") }
            start = text
        }
        var isRecorded = false
        if let value = fields["recorded"] {
            guard case .bool(let flag) = value else { throw .badHeader(reason: "'recorded' must be true or false") }
            isRecorded = flag
        }
        return try StreamHeader(
            streamID: streamID,
            sampleRateHz: sampleRateHz,
            leads: leads,
            format: format,
            start: start,
            isRecorded: isRecorded
        )
    }

    /// The header as one JSON line, newline included, as a producer sends it.
    public var jsonLine: String {
        var members: [(key: String, value: JSONValue)] = [
            ("version", .number(Double(Self.protocolVersion))),
            ("stream", .string(streamID)),
            ("rate_hz", .number(Double(sampleRateHz))),
            ("leads", .array(leads.map { .string($0.name) })),
            ("format", .string(format.wireName)),
        ]
        if case .int16(let gain, let baseline) = format {
            members.append(("gain", Self.scalarOrArray(gain)))
            if baseline.contains(where: { $0 != 0 }) {
                members.append(("baseline", Self.scalarOrArray(baseline)))
            }
        }
        if let start { members.append(("start", .string(start))) }
        if isRecorded { members.append(("recorded", .bool(true))) }
        return JSONValue.object(members).serialized + "\n"
    }

    // MARK: - Validation

    private static let knownKeys: Set<String> = [
        "version", "stream", "rate_hz", "leads", "format", "gain", "baseline", "start", "recorded",
    ]

    private func validate() throws(StreamError) {
        guard (1...Self.maxStreamIDLength).contains(streamID.unicodeScalars.count) else {
            throw .badHeader(reason: "'stream' must be 1 to \(Self.maxStreamIDLength) characters")
        }
        guard streamID.unicodeScalars.allSatisfy(Self.isStreamIDCharacter) else {
            throw .badHeader(reason: "'stream' may only contain A-Z a-z 0-9 . _ : @ -")
        }
        guard Self.sampleRateRangeHz.contains(sampleRateHz) else {
            throw .badHeader(reason: "'rate_hz' \(sampleRateHz) is outside 100...1000")
        }
        guard !leads.isEmpty else { throw .badHeader(reason: "'leads' is empty") }
        var seen = Set<StandardLead>()
        for lead in leads where !seen.insert(lead).inserted {
            throw .duplicateLead(name: lead.name)
        }
        if case .int16(let gain, let baseline) = format {
            guard gain.count == leads.count, baseline.count == leads.count else {
                throw .badHeader(reason: "'gain' and 'baseline' need one value per lead (\(leads.count))")
            }
            for (index, lead) in leads.enumerated() {
                if let problem = SampleFormat.int16ScalingProblem(gain: gain[index], baseline: baseline[index]) {
                    throw .badHeader(reason: "lead \(lead.name): \(problem)")
                }
            }
        }
        if let start {
            guard start.unicodeScalars.count <= Self.maxStartLength,
                start.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F })
            else {
                throw .badHeader(reason: "'start' must be at most \(Self.maxStartLength) printable ASCII characters")
            }
        }
    }

    private static func isStreamIDCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "_", ":", "@", "-": true
        default: false
        }
    }

    // MARK: - Field parsing

    private static func requireString(_ fields: [String: JSONValue], _ key: String) throws(StreamError) -> String {
        guard let value = fields[key] else { throw .badHeader(reason: "missing '\(key)'") }
        guard case .string(let text) = value else { throw .badHeader(reason: "'\(key)' must be a string") }
        return text
    }

    private static func requireInteger(_ fields: [String: JSONValue], _ key: String) throws(StreamError) -> Int {
        guard let value = fields[key] else { throw .badHeader(reason: "missing '\(key)'") }
        guard case .number(let number) = value, number == number.rounded(), abs(number) < 1e9 else {
            throw .badHeader(reason: "'\(key)' must be an integer")
        }
        return Int(number)
    }

    /// The leads in order; a name that is not a standard lead or names one a second time is reported as such, so
    /// more than 12 names is always an unknown or a duplicate lead.
    private static func parseLeads(_ value: JSONValue?) throws(StreamError) -> [StandardLead] {
        guard let value else { throw .badHeader(reason: "missing 'leads'") }
        guard case .array(let elements) = value else { throw .badHeader(reason: "'leads' must be an array") }
        var leads: [StandardLead] = []
        for element in elements {
            guard case .string(let name) = element else { throw .badHeader(reason: "'leads' must hold strings") }
            guard let lead = StandardLead(name: name) else { throw .unknownLead(name: name) }
            guard !leads.contains(lead) else { throw .duplicateLead(name: lead.name) }
            leads.append(lead)
        }
        return leads
    }

    private static func parseFormat(_ fields: [String: JSONValue], leadCount: Int) throws(StreamError) -> SampleFormat {
        let name = try requireString(fields, "format")
        switch name {
        case "i16le":
            guard let gain = fields["gain"] else {
                throw .badHeader(reason: "format i16le needs 'gain' (units per mV)")
            }
            let gains = try perLead(gain, key: "gain", leadCount: leadCount)
            let baselines = try fields["baseline"].map { value throws(StreamError) in
                try perLead(value, key: "baseline", leadCount: leadCount)
            }
            return .int16(gain: gains, baseline: baselines ?? Array(repeating: 0, count: leadCount))
        case "f32le", "csv":
            for key in ["gain", "baseline"] where fields[key] != nil {
                throw .badHeader(reason: "'\(key)' applies to format i16le only")
            }
            return name == "csv" ? .csv : .float32
        default:
            throw .badHeader(reason: "'format' must be i16le, f32le or csv, not '\(name.escapedForLog)'")
        }
    }

    /// A number for every lead, or an array with one number per lead.
    private static func perLead(_ value: JSONValue, key: String, leadCount: Int) throws(StreamError) -> [Double] {
        switch value {
        case .number(let number):
            return Array(repeating: number, count: leadCount)
        case .array(let elements):
            var numbers: [Double] = []
            for element in elements {
                guard case .number(let number) = element else { throw .badHeader(reason: "'\(key)' must hold numbers") }
                numbers.append(number)
            }
            guard numbers.count == leadCount else {
                throw .badHeader(reason: "'\(key)' has \(numbers.count) values for \(leadCount) leads")
            }
            return numbers
        default:
            throw .badHeader(reason: "'\(key)' must be a number or an array of numbers")
        }
    }

    private static func scalarOrArray(_ values: [Double]) -> JSONValue {
        if let first = values.first, values.allSatisfy({ $0 == first }) { return .number(first) }
        return .array(values.map { .number($0) })
    }
}
