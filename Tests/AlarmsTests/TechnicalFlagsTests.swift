import Stream
import Testing

@testable import Alarms

@Suite struct TechnicalFlagsTests {
    /// Three leads of 250 samples: a 1 mV sine-like ramp on every lead, then the given changes.
    func inspect(_ change: (inout [Float]) -> Void) -> TechnicalFlags {
        var window = (0..<3).flatMap { _ in (0..<250).map { Float(($0 % 50) - 25) / 25 } }
        change(&window)
        return window.withUnsafeBufferPointer {
            TechnicalFlags(
                inspecting: $0,
                leads: 3,
                samplesPerLead: 250,
                flatLineMillivolts: 0.02,
                saturationMillivolts: 10
            )
        }
    }

    @Test func cleanWindowHasNoFault() {
        let flags = inspect { _ in }
        #expect(!flags.isFaulted)
        #expect(flags == TechnicalFlags())
    }

    @Test func flatLeadIsFlaggedAsLeadOff() {
        let flags = inspect { window in
            for index in 250..<500 {
                window[index] = 0.3 + Float(index % 2) * 0.01
            }
        }
        #expect(flags.flatLeads == LeadSet(leadIndex: 1))
        #expect(flags.isFaulted)
    }

    @Test func sampleAtTheLimitIsSaturated() {
        let flags = inspect { window in window[600] = -10 }
        #expect(flags.saturatedLeads == LeadSet(leadIndex: 2))
        #expect(flags.flatLeads.isEmpty)
    }

    @Test func nonFiniteLeadIsFlaggedOnlyAsNonFinite() {
        let flags = inspect { window in
            for index in 0..<250 {
                window[index] = 0
            }
            window[10] = .nan
            window[260] = .infinity
        }
        #expect(flags.nonFiniteLeads == [LeadSet(leadIndex: 0), LeadSet(leadIndex: 1)])
        #expect(flags.flatLeads.isEmpty)
        #expect(flags.saturatedLeads.isEmpty)
    }

}
