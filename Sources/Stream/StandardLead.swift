/// One of the 12 standard ECG leads.
///
/// Names compare case-insensitively (`avr`, `AVR` and `aVR` are the same lead), as recordings and devices
/// spell them differently.
public enum StandardLead: Int, CaseIterable, Sendable {
    /// The leads in the conventional order: limb leads, augmented limb leads, precordial leads.
    case i, ii, iii, aVR, aVL, aVF, v1, v2, v3, v4, v5, v6

    /// The conventional spelling: `I`, `II`, `III`, `aVR`, `aVL`, `aVF`, `V1` … `V6`.
    public var name: String {
        switch self {
        case .i: "I"
        case .ii: "II"
        case .iii: "III"
        case .aVR: "aVR"
        case .aVL: "aVL"
        case .aVF: "aVF"
        case .v1: "V1"
        case .v2: "V2"
        case .v3: "V3"
        case .v4: "V4"
        case .v5: "V5"
        case .v6: "V6"
        }
    }

    /// The lead with this name, compared case-insensitively; `nil` for any other name.
    public init?(name: String) {
        let folded = name.lowercased()
        guard let lead = Self.allCases.first(where: { $0.name.lowercased() == folded }) else { return nil }
        self = lead
    }

    /// Whether the lead can be computed from leads I and II (Einthoven's and Goldberger's equations).
    public var isDerivableFromLimbLeads: Bool {
        switch self {
        case .iii, .aVR, .aVL, .aVF: true
        default: false
        }
    }

    /// Coefficients `(a, b)` such that this lead = a·I + b·II, for the leads derivable from I and II.
    ///
    /// III = II − I (Einthoven); aVR = −(I + II)/2, aVL = I − II/2, aVF = II − I/2 (Goldberger).
    var limbLeadCoefficients: (i: Float, ii: Float)? {
        switch self {
        case .i: (1, 0)
        case .ii: (0, 1)
        case .iii: (-1, 1)
        case .aVR: (-0.5, -0.5)
        case .aVL: (1, -0.5)
        case .aVF: (-0.5, 1)
        default: nil
        }
    }
}
