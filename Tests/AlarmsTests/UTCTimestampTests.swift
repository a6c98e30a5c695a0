import Testing

@testable import Alarms

@Suite struct UTCTimestampTests {
    @Test func formatsUTCWithMicroseconds() {
        #expect(UTCTimestamp.iso8601(microseconds: 1_764_542_770_000_042) == "2025-11-30T22:46:10.000042Z")
    }

    @Test(arguments: [
        (UInt64(0), "1970-01-01T00:00:00.000000Z"),
        (951_782_400_000_000, "2000-02-29T00:00:00.000000Z"),
        (951_868_799_999_999, "2000-02-29T23:59:59.999999Z"),
        (4_107_542_400_000_000, "2100-03-01T00:00:00.000000Z"),
        (253_402_300_799_000_000, "9999-12-31T23:59:59.000000Z"),
    ])
    func formatsCalendarEdges(microseconds: UInt64, text: String) {
        #expect(UTCTimestamp.iso8601(microseconds: microseconds) == text)
    }
}
