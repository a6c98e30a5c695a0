import Testing

@testable import Model

@Suite struct IncepSETests {
    @Test(arguments: Fixtures.cases)
    func matchesOnnxRuntimeWithinTolerance(_ fixture: Fixtures.Case) throws {
        let model = try Model(contentsOf: Fixtures.path(fixture.model))
        let time = fixture.time
        let input = Array(try Fixtures.floats(fixture.input).prefix(fixture.batch * 12 * time))
        let expected = try Fixtures.floats(fixture.logits)
        let engine = IncepSE(model: model, maxBatch: fixture.batch, maxTimeSamples: time)
        let logits = try engine.logits(for: input, batch: fixture.batch, timeSamples: time)
        #expect(logits.count == expected.count)
        let worst = zip(logits, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4, "max |Δlogit| \(worst)")
    }
}
