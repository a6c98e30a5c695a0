import Testing

@testable import Stream

@Suite struct LeadMappingTests {
    private func apply(_ mapping: LeadMapping, sent: [Float], flags: [UInt8]) -> (values: [Float], flags: [UInt8]) {
        var values = [Float](repeating: .nan, count: mapping.sources.count)
        var modelFlags = [UInt8](repeating: 0xFF, count: mapping.sources.count)
        mapping.apply(sent: sent, sentFlags: flags, model: &values, modelFlags: &modelFlags)
        return (values, modelFlags)
    }

    @Test func reordersSentLeadsToTheModelOrder() throws {
        let sent: [StandardLead] = [.v6, .v5, .v4, .v3, .v2, .v1, .aVF, .aVL, .aVR, .iii, .ii, .i]
        let mapping = try LeadMapping(sent: sent, model: StandardLead.allCases)
        #expect(mapping.derivedLeads.isEmpty)
        let values = apply(mapping, sent: (0..<12).map(Float.init), flags: [UInt8](repeating: 0, count: 12)).values
        #expect(values == (0..<12).reversed().map(Float.init))
    }

    @Test func derivesLimbLeadsFromIAndIIWhenOnlyEightLeadsArrive() throws {
        let sent: [StandardLead] = [.i, .ii, .v1, .v2, .v3, .v4, .v5, .v6]
        let mapping = try LeadMapping(sent: sent, model: StandardLead.allCases)
        #expect(mapping.derivedLeads == [.iii, .aVR, .aVL, .aVF])
        let (leadI, leadII): (Float, Float) = (0.4, 1.2)
        var flags = [UInt8](repeating: 0, count: 8)
        flags[1] = SampleFlags.saturated
        let result = apply(mapping, sent: [leadI, leadII, 1, 2, 3, 4, 5, 6], flags: flags)
        let expected: [Float] = [
            leadI, leadII, leadII - leadI, -(leadI + leadII) / 2, leadI - leadII / 2, leadII - leadI / 2, 1, 2, 3, 4, 5,
            6,
        ]
        for (value, reference) in zip(result.values, expected) { #expect(abs(value - reference) < 1e-6) }
        #expect(result.flags == [0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    }

    @Test func prefersASentLimbLeadOverDerivingIt() throws {
        let mapping = try LeadMapping(sent: [.i, .ii, .iii], model: [.iii, .aVF])
        #expect(mapping.derivedLeads == [.aVF])
        #expect(apply(mapping, sent: [1, 2, 7], flags: [0, 0, 0]).values[0] == 7)
    }

    @Test func precordialLeadCannotBeDerived() {
        #expect(throws: StreamError.missingLead(name: "V3")) {
            try LeadMapping(sent: [.i, .ii, .v1, .v2, .v4, .v5, .v6], model: StandardLead.allCases)
        }
    }

    @Test func limbLeadsCannotBeDerivedWithoutLeadII() {
        #expect(throws: StreamError.missingLead(name: "II")) {
            try LeadMapping(sent: [.i, .v1, .v2, .v3, .v4, .v5, .v6], model: StandardLead.allCases)
        }
    }
}
