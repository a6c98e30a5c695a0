/// One step of the model's preprocessing (docs/model-format.md, `ecg.preprocessing`), applied per lead at
/// the model's rate, in the order listed.
public enum PreprocessingStep: Sendable, Equatable {
    /// `x ← (x − mean[lead]) / std[lead]`, one mean and standard deviation per model lead.
    case standardize(mean: [Double], std: [Double])
    /// A causal IIR filter as cascaded second-order sections (direct form II transposed), state starting at
    /// zero when the stream starts, as `scipy.signal.sosfilt` computes it.
    case sosFilter(sections: [SecondOrderSection])

    /// Checks the step against the number of model leads.
    ///
    /// - Throws: ``StreamError/badConfiguration(reason:)`` naming the problem.
    func validate(leadCount: Int) throws(StreamError) {
        switch self {
        case .standardize(let mean, let std):
            guard mean.count == leadCount, std.count == leadCount else {
                throw .badConfiguration(
                    reason: "standardize needs \(leadCount) means and stds, has \(mean.count) and \(std.count)"
                )
            }
            guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw .badConfiguration(reason: "standardize needs finite means and positive finite stds")
            }
        case .sosFilter(let sections):
            guard !sections.isEmpty else { throw .badConfiguration(reason: "sos_filter has no sections") }
            for (index, section) in sections.enumerated() where !section.isStable {
                throw .badConfiguration(
                    reason: "sos_filter section \(index) is not stable (a pole on or outside the unit circle)"
                )
            }
        }
    }
}

/// One biquad `H(z) = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²)`.
public struct SecondOrderSection: Sendable, Equatable {
    /// Numerator coefficient of z⁰.
    public var b0: Double
    /// Numerator coefficient of z⁻¹.
    public var b1: Double
    /// Numerator coefficient of z⁻².
    public var b2: Double
    /// Denominator coefficient of z⁻¹ (a0 = 1).
    public var a1: Double
    /// Denominator coefficient of z⁻².
    public var a2: Double

    /// Creates a section from coefficients already normalised so that a0 = 1.
    public init(b0: Double, b1: Double, b2: Double, a1: Double, a2: Double) {
        self.b0 = b0
        self.b1 = b1
        self.b2 = b2
        self.a1 = a1
        self.a2 = a2
    }

    /// Creates a section from a row `[b0, b1, b2, a0, a1, a2]` as scipy's `output="sos"` gives.
    ///
    /// - Throws: ``StreamError/badConfiguration(reason:)`` unless there are six finite numbers with a0 = 1
    ///   (within 1e-9; scipy normalises every section).
    public init(row: [Double]) throws(StreamError) {
        guard row.count == 6, row.allSatisfy(\.isFinite) else {
            throw .badConfiguration(reason: "a second-order section needs six finite numbers, got \(row)")
        }
        guard abs(row[3] - 1) <= 1e-9 else {
            throw .badConfiguration(reason: "a second-order section needs a0 = 1, got \(row[3])")
        }
        self.init(b0: row[0], b1: row[1], b2: row[2], a1: row[4], a2: row[5])
    }

    /// Whether both poles lie strictly inside the unit circle (the stability triangle |a2| < 1, |a1| < 1 + a2).
    public var isStable: Bool {
        abs(a2) < 1 && abs(a1) < 1 + a2
    }
}
