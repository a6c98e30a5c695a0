import Testing

@testable import Stream

@Suite struct StreamErrorTests {
    @Test func badHeaderNamesTheReason() {
        #expect(StreamError.badHeader(reason: "no rate").description.contains("no rate"))
    }
}
