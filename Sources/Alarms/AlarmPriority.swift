/// How urgently an alarm needs a response, as the three priorities of IEC 60601-1-8.
///
/// `high`: immediate response (potentially life-threatening); high alarms latch, see ``AlarmEngine``.
/// `medium`: prompt response. `low`: awareness.
public enum AlarmPriority: String, Sendable, Equatable, Hashable, CaseIterable, Comparable {
    /// Immediate response required; latching.
    case high
    /// Prompt response required.
    case medium
    /// Awareness required.
    case low

    /// The syslog priority (`PRIORITY=` journal field) an alarm of this priority is raised with.
    ///
    /// `high` → 2 (crit), `medium` → 3 (err), `low` → 4 (warning). Cleared events use 5 (notice), see
    /// ``AlertEvent/syslogPriority``.
    public var syslogPriority: Int {
        switch self {
        case .high: 2
        case .medium: 3
        case .low: 4
        }
    }

    /// Orders by urgency: `low < medium < high`.
    public static func < (lhs: AlarmPriority, rhs: AlarmPriority) -> Bool {
        lhs.rank < rhs.rank
    }

    private var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        }
    }
}
