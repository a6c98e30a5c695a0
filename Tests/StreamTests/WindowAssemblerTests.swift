import Testing

@testable import Stream

@Suite struct WindowAssemblerTests {
    private func append(_ assembler: WindowAssembler, values: [Float], flags: [UInt8]) -> Bool {
        assembler.append(model: values, flags: flags)
    }

    @Test func windowsEndAfterTheFirstLengthThenEveryHop() {
        let assembler = WindowAssembler(leadCount: 1, windowSamples: 5, hopSamples: 2)
        var ends: [Int] = []
        for index in 1...12 where append(assembler, values: [Float(index)], flags: [0]) {
            ends.append(index)
            assembler.testOnly_checkInvariants()
        }
        #expect(ends == [5, 7, 9, 11])
    }

    @Test func qualityFlagsSaturatedNonFiniteAndMissingPerLead() {
        let assembler = WindowAssembler(leadCount: 4, windowSamples: 8, hopSamples: 8)
        for index in 0..<8 {
            let wave = Float(index % 2) * 0.5
            // Lead 2 has one saturated sample; lead 3 two non-finite samples; instant 5 was missing in every lead.
            var flags: [UInt8] = [0, 0, index == 3 ? SampleFlags.saturated : 0, index >= 6 ? SampleFlags.nonFinite : 0]
            if index == 5 { flags = flags.map { $0 | SampleFlags.missing } }
            _ = append(assembler, values: [wave, wave, wave, wave], flags: flags)
        }
        let quality = assembler.quality()
        #expect(quality.flatLeads.isEmpty)
        #expect(quality.saturatedLeads == LeadSet(leadIndex: 2))
        #expect(quality.nonFiniteLeads == LeadSet(leadIndex: 3))
        #expect(quality.nonFiniteSampleCount == 2)
        #expect(quality.missingSampleCount == 1)
        #expect(quality.hasTechnicalFault)
        #expect(!SignalQuality.clean.hasTechnicalFault)
    }

    @Test func leadSetListsItsIndices() {
        let set: LeadSet = [LeadSet(leadIndex: 0), LeadSet(leadIndex: 11)]
        #expect(set.leadIndices == [0, 11])
        #expect(set.contains(leadIndex: 11) && !set.contains(leadIndex: 5) && !set.contains(leadIndex: 99))
    }
}
