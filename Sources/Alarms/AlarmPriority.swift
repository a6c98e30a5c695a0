/// How urgently an alarm needs a response, as the three priorities of IEC 60601-1-8, plus `info` for what is
/// reported without being an alarm.
///
/// `high`: immediate response (potentially life-threatening); high alarms latch, see ``AlarmEngine``.
/// `medium`: prompt response. `low`: awareness. `info`: an information signal (IEC 60601-1-8 keeps those apart
/// from alarm signals): a class at this priority is a *finding*, reported (`finding-reported` and
/// `finding-resolved` events) with no alarm semantics: it never latches and counts as no active alarm.
public enum AlarmPriority: String, Sendable, Equatable, Hashable, CaseIterable, Comparable {
    /// Immediate response required; latching.
    case high
    /// Prompt response required.
    case medium
    /// Awareness required.
    case low
    /// No response required: a finding, reported for the record.
    case info

    /// The syslog priority (`PRIORITY=` journal field) an alarm of this priority is raised with.
    ///
    /// `high` → 2 (crit), `medium` → 3 (err), `low` → 4 (warning), `info` → 6 (info). Cleared alarms use 5
    /// (notice), see ``AlertEvent/syslogPriority``.
    public var syslogPriority: Int {
        switch self {
        case .high: 2
        case .medium: 3
        case .low: 4
        case .info: 6
        }
    }

    /// Whether this is an alarm priority, rather than `info`.
    public var isAlarm: Bool { self != .info }

    /// Orders by urgency: `info < low < medium < high`.
    public static func < (lhs: AlarmPriority, rhs: AlarmPriority) -> Bool {
        lhs.rank < rhs.rank
    }

    private var rank: Int {
        switch self {
        case .info: 0
        case .low: 1
        case .medium: 2
        case .high: 3
        }
    }
}
