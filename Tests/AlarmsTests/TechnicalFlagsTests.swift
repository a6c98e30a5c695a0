import Stream
import Testing

@testable import Alarms

@Suite struct TechnicalFlagsTests {
    static func quality(flat: LeadSet = [], saturated: LeadSet = [], nonFinite: LeadSet = [], missing: Int = 0)
        -> SignalQuality
    {
        SignalQuality(
            flatLeads: flat,
            saturatedLeads: saturated,
            nonFiniteLeads: nonFinite,
            nonFiniteSampleCount: nonFinite.leadIndices.count,
            missingSampleCount: missing
        )
    }

    @Test func cleanWindowHasNoFlag() {
        #expect(TechnicalFlags(quality: .clean) == TechnicalFlags())
    }

    @Test func flatAndSaturatedLeadsAreFlaggedAsSuch() {
        let flags = TechnicalFlags(quality: Self.quality(flat: LeadSet(leadIndex: 1), saturated: LeadSet(leadIndex: 2)))
        #expect(flags.flatLeads == LeadSet(leadIndex: 1))
        #expect(flags.saturatedLeads == LeadSet(leadIndex: 2))
        #expect(flags.leads(with: .leadOff) == LeadSet(leadIndex: 1))
        #expect(flags.leads(with: .saturation) == LeadSet(leadIndex: 2))
    }

    @Test func nonFiniteLeadIsReportedAsSuchOnly() {
        let broken: LeadSet = [LeadSet(leadIndex: 0), LeadSet(leadIndex: 1)]
        let flags = TechnicalFlags(quality: Self.quality(flat: broken, saturated: broken, nonFinite: broken))
        #expect(flags.nonFiniteLeads == broken)
        #expect(flags.flatLeads.isEmpty)
        #expect(flags.saturatedLeads.isEmpty)
    }

    @Test func gapAloneFlagsNoLead() {
        #expect(TechnicalFlags(quality: Self.quality(missing: 10)) == TechnicalFlags())
    }

    @Test func streamConditionsHaveNoLeads() {
        let flags = TechnicalFlags(quality: Self.quality(flat: LeadSet(leadIndex: 3)))
        #expect(flags.leads(with: .streamStalled).isEmpty)
        #expect(flags.leads(with: .streamEndedUnexpectedly).isEmpty)
    }
}
