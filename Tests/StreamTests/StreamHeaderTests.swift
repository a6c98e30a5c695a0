import Testing

@testable import Stream

@Suite struct StreamHeaderTests {
    private func parse(_ text: String) throws(StreamError) -> StreamHeader {
        try StreamHeader.parse(line: Array(text.utf8))
    }

    @Test func parsesAFullHeader() throws {
        let header = try parse(
            #"{"version":1,"stream":"bed-12","rate_hz":500,"leads":["i","II","v1","V2","V3","V4","V5","V6"],"format":"i16le","gain":[1000,1000,1000,1000,1000,1000,1000,2000],"baseline":5,"start":"2024-05-01T10:00:00Z"}"#
        )
        #expect(header.streamID == "bed-12")
        #expect(header.sampleRateHz == 500)
        #expect(header.leads == [.i, .ii, .v1, .v2, .v3, .v4, .v5, .v6])
        #expect(
            header.format
                == .int16(
                    gain: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 2000],
                    baseline: Array(repeating: 5, count: 8)
                )
        )
        #expect(header.start == "2024-05-01T10:00:00Z")
    }

    @Test(arguments: [
        SampleFormat.float32, .csv, .int16(gain: [200, 400], baseline: [0, 0]),
        .int16(gain: [1000, 1000], baseline: [3, -4]),
    ])
    func jsonLineRoundTrips(format: SampleFormat) throws {
        let header = try StreamHeader(
            streamID: "a.b:c@d_e-1",
            sampleRateHz: 360,
            leads: [.ii, .v5],
            format: format,
            start: "now"
        )
        let line = header.jsonLine
        #expect(line.hasSuffix("\n"))
        #expect(try parse(String(line.dropLast())) == header)
    }

    @Test(arguments: [
        (#"[1]"#, "expected a JSON object"),
        (#"{"stream":"a","rate_hz":100,"leads":["I"],"format":"f32le","rate":1}"#, "unknown key 'rate'"),
        (#"{"stream":"a","stream":"b","rate_hz":100,"leads":["I"],"format":"f32le"}"#, "appears twice"),
        (#"{"rate_hz":100,"leads":["I"],"format":"f32le"}"#, "missing 'stream'"),
        (#"{"stream":"","rate_hz":100,"leads":["I"],"format":"f32le"}"#, "1 to 64 characters"),
        (#"{"stream":"a b","rate_hz":100,"leads":["I"],"format":"f32le"}"#, "may only contain"),
        (#"{"stream":"a","rate_hz":99,"leads":["I"],"format":"f32le"}"#, "outside 100...1000"),
        (#"{"stream":"a","rate_hz":1001,"leads":["I"],"format":"f32le"}"#, "outside 100...1000"),
        (#"{"stream":"a","rate_hz":250.5,"leads":["I"],"format":"f32le"}"#, "must be an integer"),
        (#"{"stream":"a","rate_hz":100,"leads":[],"format":"f32le"}"#, "'leads' is empty"),
        (#"{"stream":"a","rate_hz":100,"leads":"I","format":"f32le"}"#, "must be an array"),
        (#"{"stream":"a","rate_hz":100,"leads":["I"],"format":"i24"}"#, "must be i16le, f32le or csv"),
        (#"{"stream":"a","rate_hz":100,"leads":["I"],"format":"i16le"}"#, "needs 'gain'"),
        (#"{"stream":"a","rate_hz":100,"leads":["I"],"format":"i16le","gain":0}"#, "positive"),
        (#"{"stream":"a","rate_hz":100,"leads":["I","II"],"format":"i16le","gain":[1,2,3]}"#, "3 values for 2 leads"),
        (#"{"stream":"a","rate_hz":100,"leads":["I"],"format":"f32le","gain":1000}"#, "applies to format i16le only"),
        (#"{"version":2,"stream":"a","rate_hz":100,"leads":["I"],"format":"f32le"}"#, "unsupported version"),
        (#"{"stream":"a","rate_hz":100,"leads":["I"],"format":"f32le","start":5}"#, "'start' must be a string"),
        (#"{"stream":"a","rate_hz":100,"leads":["I"],"format":"f32le""#, "not JSON"),
    ])
    func refusesBadHeadersNamingTheProblem(text: String, reason: String) {
        #expect {
            try parse(text)
        } throws: { error in
            guard case .badHeader(let message) = error as? StreamError else { return false }
            return message.contains(reason)
        }
    }

    @Test func refusesUnknownLeadNamingIt() {
        #expect(throws: StreamError.unknownLead(name: "vx")) {
            try parse(#"{"stream":"a","rate_hz":1000,"leads":["I","vx"],"format":"f32le"}"#)
        }
    }

    @Test func refusesDuplicateLeadsInAnyCase() {
        #expect(throws: StreamError.duplicateLead(name: "aVR")) {
            try parse(#"{"stream":"a","rate_hz":100,"leads":["aVR","AVR"],"format":"csv"}"#)
        }
    }

    @Test func refusesThirteenLeadsAsADuplicateLead() {
        let leads = (StandardLead.allCases.map(\.name) + ["I"]).map { "\"\($0)\"" }.joined(separator: ",")
        #expect(throws: StreamError.duplicateLead(name: "I")) {
            try parse(#"{"stream":"a","rate_hz":100,"leads":["# + leads + #"],"format":"f32le"}"#)
        }
    }

    @Test func refusesThirteenLeadsAsAnUnknownLead() {
        let leads = (StandardLead.allCases.map(\.name) + ["V7"]).map { "\"\($0)\"" }.joined(separator: ",")
        #expect(throws: StreamError.unknownLead(name: "V7")) {
            try parse(#"{"stream":"a","rate_hz":100,"leads":["# + leads + #"],"format":"f32le"}"#)
        }
    }

    @Test func reportsADuplicateLeadBeforeGainsThatDoNotFit() {
        #expect(throws: StreamError.duplicateLead(name: "V1")) {
            try parse(#"{"stream":"a","rate_hz":100,"leads":["V1","v1"],"format":"i16le","gain":[1,2,3]}"#)
        }
    }

    @Test(arguments: ["1e-320", "4.9e-324", "0", "-1000", "1e-300", "0.001"])
    func refusesAGainThatCannotScaleSamplesNamingItAndTheLead(gain: String) {
        let text = #"{"stream":"a","rate_hz":100,"leads":["I","V2"],"format":"i16le","gain":[1000,"# + gain + "]}"
        #expect {
            try parse(text)
        } throws: { error in
            guard case .badHeader(let reason) = error as? StreamError else { return false }
            return reason.hasPrefix("lead V2: gain \(Double(gain)!)")
        }
    }

    @Test func refusesNonFiniteGainsAndABaselineThatOverflowsEverySample() {
        for gain in [Double.infinity, -.infinity, .nan] {
            #expect(throws: StreamError.self) {
                try StreamHeader(
                    streamID: "a", sampleRateHz: 100, leads: [.i], format: .int16(gain: [gain], baseline: [0]))
            }
        }
        #expect {
            try parse(#"{"stream":"a","rate_hz":100,"leads":["I"],"format":"i16le","gain":1000,"baseline":1e300}"#)
        } throws: { error in
            guard case .badHeader(let reason) = error as? StreamError else { return false }
            return reason.contains("baseline 1e+300") && reason.contains("lead I")
        }
    }

    @Test(arguments: [0.04, 1, 200, 1000, 1e6, 1e12])
    func acceptsGainsThatScaleSamplesToFiniteMillivolts(gain: Double) throws {
        let header = try StreamHeader(
            streamID: "a", sampleRateHz: 100, leads: [.i], format: .int16(gain: [gain], baseline: [-20])
        )
        #expect(try parse(String(header.jsonLine.dropLast())) == header)
    }

    @Test func escapesAForgedLogLineInALeadName() {
        let name = #"I\n2026-01-01T00:00:00+0000 critical ecg-monitor: FORGED-LINE"#
        let error = #expect(throws: StreamError.self) {
            try parse(#"{"stream":"a","rate_hz":100,"leads":[""# + name + #""],"format":"f32le"}"#)
        }
        #expect(error == .unknownLead(name: LogEscapingTests.forgedLine))
        #expect(error?.description.contains("'\(name)'") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test(arguments: [
        #"{"stream":"a","rate_hz":100,"leads":["I"],"format":"f32le","\u001b[2Jx\r\u0000":1}"#,
        #"{"stream":"a","rate_hz":100,"leads":["I"],"format":"i16\nle"}"#,
        #"{"version":"\u007f\u0085","stream":"a","rate_hz":100,"leads":["I"],"format":"f32le"}"#,
    ])
    func escapesClientTextInEveryHeaderError(text: String) {
        let error = #expect(throws: StreamError.self) { try parse(text) }
        let description = error?.description ?? ""
        #expect(!description.isEmpty)
        #expect(!description.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
    }
}
