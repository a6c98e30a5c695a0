// Swift attributes timespec's fields to the first module whose headers declare it, CSystemd here.
import CSystemd
import Glibc

/// Wall-clock time in microseconds since the Unix epoch, the journal's unit, and the `--since` times of `ecg-monitor alerts`.
package enum WallClock {
    /// Now. The corresponding C function is `clock_gettime(CLOCK_REALTIME)`.
    package static func nowMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec / 1000)
    }

    /// Reads a `--since` time: `YYYY-MM-DD[ HH:MM[:SS]]` or `YYYY-MM-DDTHH:MM[:SS]` in local time,
    /// `@SECONDS` since the epoch, or `-N` followed by `s`, `min`, `h` or `d` before `now`.
    ///
    /// - Throws: ``DaemonError/badTime(_:)`` for anything else.
    package static func parse(_ text: String, nowMicroseconds: UInt64) throws(DaemonError) -> UInt64 {
        if text.hasPrefix("@") {
            guard let seconds = UInt64(text.dropFirst()), seconds < UInt64.max / 1_000_000 else {
                throw .badTime(text)
            }
            return seconds * 1_000_000
        }
        if text.hasPrefix("-") {
            return try relative(text, nowMicroseconds: nowMicroseconds)
        }
        return try local(text)
    }

    private static func relative(_ text: String, nowMicroseconds: UInt64) throws(DaemonError) -> UInt64 {
        let units: [(suffix: String, seconds: UInt64)] = [("min", 60), ("s", 1), ("h", 3600), ("d", 86400)]
        let body = text.dropFirst()
        guard let unit = units.first(where: { body.hasSuffix($0.suffix) }),
            let count = UInt64(body.dropLast(unit.suffix.count)),
            count < UInt64.max / 1_000_000 / unit.seconds
        else {
            throw .badTime(text)
        }
        let back = count * unit.seconds * 1_000_000
        return nowMicroseconds > back ? nowMicroseconds - back : 0
    }

    private static func local(_ text: String) throws(DaemonError) -> UInt64 {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "T" })
        guard parts.count == 1 || parts.count == 2 else { throw .badTime(text) }
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false).map { Int32($0) }
        let clock =
            parts.count == 2 ? parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Int32($0) } : []
        guard date.count == 3, clock.count == 0 || clock.count == 2 || clock.count == 3,
            let year = date[0], let month = date[1], let day = date[2],
            (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else {
            throw .badTime(text)
        }
        let hms = clock.compactMap { $0 }
        guard hms.count == clock.count, hms.count < 1 || (0...23).contains(hms[0]),
            hms.count < 2 || (0...59).contains(hms[1]), hms.count < 3 || (0...60).contains(hms[2])
        else {
            throw .badTime(text)
        }
        var broken = tm()
        broken.tm_year = year - 1900
        broken.tm_mon = month - 1
        broken.tm_mday = day
        broken.tm_hour = hms.count > 0 ? hms[0] : 0
        broken.tm_min = hms.count > 1 ? hms[1] : 0
        broken.tm_sec = hms.count > 2 ? hms[2] : 0
        broken.tm_isdst = -1
        let seconds = mktime(&broken)
        // mktime normalises 31 February to 3 March; a date it had to move was not a real one.
        guard seconds >= 0, broken.tm_mday == day, broken.tm_mon == month - 1 else { throw .badTime(text) }
        return UInt64(seconds) * 1_000_000
    }
}
