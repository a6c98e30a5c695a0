/// The text form of a wall-clock time given in microseconds since the Unix epoch (the journal's unit).
///
/// Pure arithmetic on the proleptic Gregorian calendar, so the alarm side formats times without a clock or the
/// C library's time zone state.
public enum UTCTimestamp {
    /// `2026-11-30T22:46:10.446510Z`.
    public static func iso8601(microseconds: UInt64) -> String {
        let seconds = microseconds / 1_000_000
        let secondOfDay = Int(seconds % 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: Int(seconds / 86_400))
        let date = "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
        let time = "\(padded(secondOfDay / 3600, 2)):\(padded(secondOfDay / 60 % 60, 2)):\(padded(secondOfDay % 60, 2))"
        return "\(date)T\(time).\(padded(Int(microseconds % 1_000_000), 6))Z"
    }

    /// The year, month (1...12) and day (1...31) of a day counted from 1970-01-01.
    ///
    /// Counts in 400-year eras of 146 097 days whose years start on 1 March, so that the leap day ends a year.
    static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        // 719 468 days lie between 0000-03-01 and 1970-01-01.
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (era * 400 + yearOfEra + (month <= 2 ? 1 : 0), month, day)
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
