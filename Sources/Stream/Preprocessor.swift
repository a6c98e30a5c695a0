/// Applies a list of ``PreprocessingStep``s to one instant of every lead at a time, keeping filter state.
///
/// Arithmetic and state are in double precision, as in the training pipeline (numpy, scipy), so that a
/// low-cut filter with poles near 1 behaves the same on both sides. Allocates only in `init`.
public final class Preprocessor {
    private enum CompiledStep {
        case standardize(offset: Int)
        case sosFilter(firstSection: Int, sectionCount: Int, firstState: Int)
    }

    /// Leads per instant.
    public let leadCount: Int
    private let steps: [CompiledStep]
    /// Means then reciprocal standard deviations of every standardize step, `[2 · leadCount]` each.
    private let scales: [Double]
    private let sections: [SecondOrderSection]
    /// Per filter step: `[lead][section][2]` direct-form-II-transposed state.
    private let state: UnsafeMutablePointer<Double>
    private let stateCount: Int

    /// Compiles the steps for `leadCount` leads.
    ///
    /// - Throws: ``StreamError/badConfiguration(reason:)`` if a step does not fit the lead count or is unstable.
    public init(steps: [PreprocessingStep], leadCount: Int) throws(StreamError) {
        self.leadCount = leadCount
        var compiled: [CompiledStep] = []
        var scales: [Double] = []
        var sections: [SecondOrderSection] = []
        var stateCount = 0
        for step in steps {
            try step.validate(leadCount: leadCount)
            switch step {
            case .standardize(let mean, let std):
                compiled.append(.standardize(offset: scales.count))
                scales += mean
                scales += std.map { 1 / $0 }
            case .sosFilter(let stepSections):
                compiled.append(
                    .sosFilter(firstSection: sections.count, sectionCount: stepSections.count, firstState: stateCount)
                )
                sections += stepSections
                stateCount += leadCount * stepSections.count * 2
            }
        }
        self.steps = compiled
        self.scales = scales
        self.sections = sections
        self.stateCount = stateCount
        state = .allocate(capacity: max(stateCount, 1))
        state.initialize(repeating: 0, count: max(stateCount, 1))
    }

    deinit {
        state.deallocate()
    }

    /// Transforms one instant in place.
    ///
    /// - Parameter values: one value per lead, `[leadCount]`, finite.
    /// - Complexity: O(leads · (steps + sections)).
    public func apply(_ values: UnsafeMutablePointer<Double>) {
        for step in steps {
            switch step {
            case .standardize(let offset):
                for lead in 0..<leadCount {
                    values[lead] = (values[lead] - scales[offset + lead]) * scales[offset + leadCount + lead]
                }
            case .sosFilter(let firstSection, let sectionCount, let firstState):
                for lead in 0..<leadCount {
                    var x = values[lead]
                    let leadState = state + firstState + lead * sectionCount * 2
                    for index in 0..<sectionCount {
                        let section = sections[firstSection + index]
                        let z = leadState + index * 2
                        let y = section.b0 * x + z[0]
                        z[0] = section.b1 * x - section.a1 * y + z[1]
                        z[1] = section.b2 * x - section.a2 * y
                        x = y
                    }
                    values[lead] = x
                }
            }
        }
    }

    /// Whether any filter state is non-finite; tests call it after every mutation.
    func testOnly_checkInvariants() {
        for index in 0..<stateCount {
            precondition(state[index].isFinite, "filter state must stay finite")
        }
    }
}
