/// How fast a producer tool sends samples: `1` real time, `N` N times real time, `max` as fast as the reader
/// takes them.
public enum Pace: Equatable, Sendable {
    /// Stream time advances `factor` times as fast as wall-clock time.
    case realTime(factor: Double)
    /// No waiting at all.
    case unlimited

    /// Reads `1`, `2.5` (times real time, up to 10 000) or `max`; nil for anything else.
    public init?(argument: String) {
        if argument == "max" {
            self = .unlimited
            return
        }
        guard let factor = Double(argument), factor.isFinite, factor > 0, factor <= 10_000 else { return nil }
        self = .realTime(factor: factor)
    }

    /// The text that ``init(argument:)`` reads back.
    public var defaultValueDescription: String {
        switch self {
        case .realTime(let factor): factor == factor.rounded() ? String(Int(factor)) : String(factor)
        case .unlimited: "max"
        }
    }
}
