import Testing

@testable import Stream

@Suite struct PreprocessorTests {
    /// `scipy.signal.butter(2, [0.5, 40], "bandpass", fs=100, output="sos")`, as scipy 1.17 prints it.
    static let bandPass: [SecondOrderSection] = [
        SecondOrderSection(
            b0: 0.6244476715487453,
            b1: 1.2488953430974905,
            b2: 0.6244476715487453,
            a1: 1.1408534076762138,
            a2: 0.41324935961547704
        ),
        SecondOrderSection(b0: 1, b1: -2, b2: 1, a1: -1.9555729802568478, a2: 0.9565482701146634),
    ]

    /// Direct form I, the textbook difference equation: a different structure computing the same filter.
    static func directFormI(_ input: [Double], sections: [SecondOrderSection]) -> [Double] {
        var signal = input
        for section in sections {
            var output = [Double](repeating: 0, count: signal.count)
            for n in signal.indices {
                let x1 = n >= 1 ? signal[n - 1] : 0
                let x2 = n >= 2 ? signal[n - 2] : 0
                let y1 = n >= 1 ? output[n - 1] : 0
                let y2 = n >= 2 ? output[n - 2] : 0
                output[n] =
                    section.b0 * signal[n] + section.b1 * x1 + section.b2 * x2 - section.a1 * y1 - section.a2 * y2
            }
            signal = output
        }
        return signal
    }

    @Test func standardizeThenFilterMatchesTheDifferenceEquation() throws {
        let mean = [0.1, -0.2]
        let std = [0.5, 2.0]
        let preprocessor = try Preprocessor(
            steps: [.standardize(mean: mean, std: std), .sosFilter(sections: Self.bandPass)],
            leadCount: 2
        )
        var generator = TestSupport.Generator(seed: 11)
        let input = (0..<400).map { _ in
            [Double.random(in: -2...2, using: &generator), Double.random(in: -2...2, using: &generator)]
        }
        var output: [[Double]] = []
        for instant in input {
            var values = instant
            preprocessor.apply(&values)
            preprocessor.testOnly_checkInvariants()
            output.append(values)
        }
        for lead in 0..<2 {
            let standardized = input.map { ($0[lead] - mean[lead]) / std[lead] }
            let reference = Self.directFormI(standardized, sections: Self.bandPass)
            let maxError = zip(output.map { $0[lead] }, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(maxError < 1e-12)
        }
    }

    @Test func noStepsLeaveValuesUnchanged() throws {
        let preprocessor = try Preprocessor(steps: [], leadCount: 3)
        var values = [1.5, -2, 0.25]
        preprocessor.apply(&values)
        #expect(values == [1.5, -2, 0.25])
    }

    @Test func sectionRowsNeedSixNumbersAndUnitA0() throws {
        let section = try SecondOrderSection(row: [1, 2, 3, 1, 0.5, 0.25])
        #expect(section == SecondOrderSection(b0: 1, b1: 2, b2: 3, a1: 0.5, a2: 0.25))
        #expect(throws: StreamError.self) { try SecondOrderSection(row: [1, 2, 3, 2, 0.5, 0.25]) }
        #expect(throws: StreamError.self) { try SecondOrderSection(row: [1, 2, 3, 1, 0.5]) }
        #expect(throws: StreamError.self) { try SecondOrderSection(row: [1, 2, .nan, 1, 0.5, 0.1]) }
    }

    @Test func unstableOrMismatchedStepsAreRefused() {
        let unstable = SecondOrderSection(b0: 1, b1: 0, b2: 0, a1: -2.1, a2: 1.05)
        #expect(throws: StreamError.self) { try Preprocessor(steps: [.sosFilter(sections: [unstable])], leadCount: 1) }
        #expect(throws: StreamError.self) { try Preprocessor(steps: [.standardize(mean: [0], std: [1])], leadCount: 2) }
        #expect(throws: StreamError.self) { try Preprocessor(steps: [.standardize(mean: [0], std: [0])], leadCount: 1) }
        #expect(throws: StreamError.self) { try Preprocessor(steps: [.sosFilter(sections: [])], leadCount: 1) }
    }
}
