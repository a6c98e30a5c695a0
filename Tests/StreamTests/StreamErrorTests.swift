import Testing

@testable import Stream

@Suite struct StreamErrorTests {
    static let everyCase: [StreamError] = [
        .badHeader(reason: "no rate"), .lineTooLong(limitBytes: 4096), .unknownLead(name: "vx"),
        .duplicateLead(name: "I"),
        .missingLead(name: "V3"), .wrongFrameSize(expectedLeads: 12, actualLeads: 11),
        .wrongFrameFormat(expected: "f32le", actual: "i16le"), .frameTooLarge(samples: 2000, limitSamples: 1000),
        .noValidFrame(skippedBytes: 65537), .sampleGap(expectedIndex: 10, receivedIndex: 5000),
        .badCSVLine(reason: "value 3"),
        .truncatedStream(bufferedBytes: 17), .idleTimeout(seconds: 30), .refused(reason: "too many streams"),
        .badConfiguration(reason: "hop"), .badRecord(path: "r.hea", reason: "format 8"),
        .fileError(path: "r.dat", operation: "open", errno: 2),
    ]

    @Test func badHeaderNamesTheReason() {
        #expect(StreamError.badHeader(reason: "no rate").description.contains("no rate"))
    }

    @Test func everyCaseHasItsOwnSnakeCaseCode() {
        let codes = Self.everyCase.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(codes.allSatisfy { $0.allSatisfy { $0 == "_" || ("a"..."z").contains($0) } })
    }

    @Test func descriptionsNameTheValuesInvolved() {
        #expect(StreamError.wrongFrameSize(expectedLeads: 12, actualLeads: 11).description.contains("11 leads"))
        #expect(StreamError.sampleGap(expectedIndex: 10, receivedIndex: 5000).description.contains("5000"))
        #expect(StreamError.unknownLead(name: "vx").description.contains("'vx'"))
        #expect(Self.everyCase.allSatisfy { !$0.description.isEmpty })
    }

    @Test func descriptionsEscapeTheClientTextTheyEmbed() {
        let forged = LogEscapingTests.forgedLine
        let errors: [StreamError] = [
            .unknownLead(name: forged), .duplicateLead(name: forged), .missingLead(name: forged),
            .badRecord(path: forged, reason: "r"), .fileError(path: forged, operation: "open", errno: 2),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains(forged.escapedForLog))
        }
    }
}
