import Testing

@testable import Stream

@Suite struct StandardLeadTests {
    @Test(arguments: [
        ("i", StandardLead.i), ("II", .ii), ("iii", .iii), ("AVR", .aVR), ("avl", .aVL), ("aVF", .aVF), ("v1", .v1),
        ("V6", .v6),
    ])
    func matchesNamesCaseInsensitively(name: String, lead: StandardLead) {
        #expect(StandardLead(name: name) == lead)
    }

    @Test(arguments: ["", "MLII", "V7", "I ", "vx", "aVRx"])
    func refusesOtherNames(_ name: String) {
        #expect(StandardLead(name: name) == nil)
    }

    @Test func derivedLeadsFollowEinthovenAndGoldberger() throws {
        let leadI: Float = 0.7
        let leadII: Float = 1.3
        func value(_ lead: StandardLead) throws -> Float {
            let coefficients = try #require(lead.limbLeadCoefficients)
            return coefficients.i * leadI + coefficients.ii * leadII
        }
        let iii = try value(.iii)
        let aVR = try value(.aVR)
        let aVL = try value(.aVL)
        let aVF = try value(.aVF)
        #expect(abs(iii - (leadII - leadI)) < 1e-6)
        // Goldberger's leads sum to zero, and aVF = (II + III) / 2, aVL = (I - III) / 2.
        #expect(abs(aVR + aVL + aVF) < 1e-6)
        #expect(abs(aVF - (leadII + iii) / 2) < 1e-6)
        #expect(abs(aVL - (leadI - iii) / 2) < 1e-6)
        #expect(StandardLead.v1.limbLeadCoefficients == nil)
    }
}
