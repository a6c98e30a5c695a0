import Testing

@testable import Model

@Suite struct ModelErrorTests {
    @Test func truncatedNamesItsContext() {
        #expect(ModelError.truncated(context: "initializer w").description.contains("initializer w"))
    }
}
