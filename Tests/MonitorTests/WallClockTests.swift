import Foundation
import Testing

@testable import Monitor

@Suite struct WallClockTests {
    @Test func nowIsTheSystemClock() {
        let now = WallClock.nowMicroseconds()
        let foundation = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        #expect(now <= foundation && foundation - now < 5_000_000)
    }

    @Test func readsEpochAndRelativeTimes() throws {
        let now: UInt64 = 1_764_542_770_000_000
        #expect(try WallClock.parse("@1764542770", nowMicroseconds: now) == now)
        #expect(try WallClock.parse("-90s", nowMicroseconds: now) == now - 90_000_000)
        #expect(try WallClock.parse("-5min", nowMicroseconds: now) == now - 300_000_000)
        #expect(try WallClock.parse("-2h", nowMicroseconds: now) == now - 7_200_000_000)
        #expect(try WallClock.parse("-1d", nowMicroseconds: now) == now - 86_400_000_000)
    }

    @Test func readsLocalDatesLikeFoundationDoes() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        let components = DateComponents(year: 2026, month: 3, day: 4, hour: 5, minute: 6, second: 7)
        let expected = try #require(calendar.date(from: components)).timeIntervalSince1970
        #expect(try WallClock.parse("2026-03-04 05:06:07", nowMicroseconds: 0) == UInt64(expected) * 1_000_000)
        #expect(try WallClock.parse("2026-03-04T05:06:07", nowMicroseconds: 0) == UInt64(expected) * 1_000_000)
        #expect(try WallClock.parse("2026-03-04 05:06", nowMicroseconds: 0) == UInt64(expected - 7) * 1_000_000)
    }

    @Test(arguments: [
        "yesterday", "2026-02-31", "2026-13-01", "2026-01-01 25:00", "-5", "-5weeks", "@-3", "2026-01-01 10",
    ])
    func rejectsAnythingElse(_ text: String) {
        #expect(throws: DaemonError.badTime(text)) {
            try WallClock.parse(text, nowMicroseconds: 1_000_000_000)
        }
    }
}
