import Beats

/// One alarm transition on one stream (a finding, heart-rate or technical alarm raised or cleared), or a
/// stream's periodic vitals.
///
/// The ``AlarmEngine`` emits exactly one event per transition; outputs write it to the journal
/// (``AlertEvent/journalFields``) and as a JSON line (``AlertEvent/jsonLine(timestampMicroseconds:)``).
public struct AlertEvent: Sendable, Equatable {
    /// The transition.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// A finding (a class of the model) crossed its threshold for long enough.
        case raised
        /// A raised finding ended, was acknowledged, was disabled, or its stream ended.
        case cleared
        /// A technical condition was raised.
        case technicalRaised = "technical-raised"
        /// A technical condition ended.
        case technicalCleared = "technical-cleared"
        /// A finding (a class at `info` priority) crossed its threshold for long enough: reported, not an alarm.
        case findingReported = "finding-reported"
        /// A reported finding ended, or its stream did.
        case findingResolved = "finding-resolved"
        /// A heart-rate alarm (asystole, a rate beyond a limit) was raised.
        case heartRateRaised = "heart-rate-raised"
        /// A heart-rate alarm ended, was acknowledged, was superseded, or its stream ended.
        case heartRateCleared = "heart-rate-cleared"
        /// A stream's current heart rate, sent periodically: no transition, no alarm.
        case vitals

        /// The fixed journal `MESSAGE_ID` of this kind (32 lower-case hex digits), explained in
        /// `systemd/ecg-monitor.catalog`.
        public var messageID: String {
            switch self {
            case .raised: "3bbf4294ef16468b9e7cfcb878630f9b"
            case .cleared: "b06ab664023749c69266f82187bbe39a"
            case .technicalRaised: "f787b00bc9694114b2d519016cd7ed99"
            case .technicalCleared: "a9ab11a563f7464eb9d31c4a14f316d6"
            case .findingReported: "a6f2bf07092e471dafb2bbd4dbba2d58"
            case .findingResolved: "e94215706397448c905854ef96f9ccb5"
            case .heartRateRaised: "a829f969b49c4922a3dd54ec36ba68c7"
            case .heartRateCleared: "69fde935fe5e43ab9668a9119d4cedeb"
            case .vitals: "de815cdbad28479e83a5fbca2f0d2792"
            }
        }

        /// Whether this kind starts an alarm (rather than ending one).
        public var isRaise: Bool {
            self == .raised || self == .technicalRaised || self == .findingReported || self == .heartRateRaised
        }

        /// The kind a finding's transition takes instead of an alarm's.
        var asFinding: Kind {
            switch self {
            case .raised: .findingReported
            case .cleared: .findingResolved
            default: self
            }
        }
    }

    /// What the alarm is about.
    public enum Subject: Sendable, Equatable, Hashable {
        /// A class of the model: SCP code and description, as in the model's metadata.
        case finding(code: String, description: String)
        /// A technical condition, with the lead name for per-lead conditions.
        case technical(TechnicalCondition, lead: String?)
        /// A heart-rate alarm, from the stream's measured rate.
        case heartRate(HeartRateCondition)
        /// The stream's vitals (``Kind/vitals``).
        case vitals
    }

    /// Why an alarm was cleared.
    public enum ClearReason: String, Sendable, Equatable, CaseIterable {
        /// The aggregated probability stayed below threshold − hysteresis, or the technical fault went away.
        case conditionEnded = "condition-ended"
        /// A latched alarm whose condition had ended was acknowledged.
        case acknowledged
        /// The stream ended; its alarms end with it.
        case streamEnded = "stream-ended"
        /// A reload stopped the class from alerting.
        case classDisabled = "class-disabled"
        /// A stream with the same id started again after ending unexpectedly.
        case streamResumed = "stream-resumed"
        /// A more severe heart-rate alarm replaced it.
        case superseded
    }

    /// The transition.
    public var kind: Kind
    /// The stream's id, as its producer announced it.
    public var stream: String
    /// What the alarm is about.
    public var subject: Subject
    /// The alarm's priority.
    public var priority: AlarmPriority
    /// Findings only: the aggregated probability at the transition.
    public var probability: Float?
    /// Findings: the threshold in force; heart-rate alarms: the rate limit crossed, bpm.
    public var threshold: Float?
    /// Start of the last window evaluated before the transition, stream seconds.
    public var windowStartSeconds: Double
    /// End of that window, stream seconds.
    public var windowEndSeconds: Double
    /// Cleared kinds only: why.
    public var reason: ClearReason?
    /// The stream's displayed heart rate at the event, bpm (0 in asystole); nil while unknown.
    public var heartRateBPM: Double?
    /// The model that produced the probabilities (its file name without extension).
    public var model: String

    /// Creates an event; see the properties for the meaning of each value.
    public init(
        kind: Kind,
        stream: String,
        subject: Subject,
        priority: AlarmPriority,
        probability: Float? = nil,
        threshold: Float? = nil,
        windowStartSeconds: Double,
        windowEndSeconds: Double,
        reason: ClearReason? = nil,
        heartRateBPM: Double? = nil,
        model: String
    ) {
        self.kind = kind
        self.stream = stream
        self.subject = subject
        self.priority = priority
        self.probability = probability
        self.threshold = threshold
        self.windowStartSeconds = windowStartSeconds
        self.windowEndSeconds = windowEndSeconds
        self.reason = reason
        self.heartRateBPM = heartRateBPM
        self.model = model
    }

    /// The rate a reading displays, rounded to 0.1 bpm: 0 in asystole, nil when there is none.
    public static func displayedRate(_ reading: HeartRateReading) -> Double? {
        if reading.asystole { return 0 }
        return reading.beatsPerMinute.map { ($0 * 10).rounded() / 10 }
    }

    /// The syslog priority of the journal entry: the alarm's for raises, 5 (notice) for clears, 6 (info) for
    /// findings.
    public var syslogPriority: Int {
        kind.isRaise || !priority.isAlarm ? priority.syslogPriority : 5
    }

    /// One line for people: stream, transition, subject, numbers, window.
    public var message: String {
        var text = "\(stream): "
        switch subject {
        case .finding(let code, let description):
            let transition =
                priority.isAlarm ? (kind.isRaise ? "raised" : "cleared") : (kind.isRaise ? "reported" : "resolved")
            text += "\(code) (\(description)) \(transition)"
        case .technical(let condition, let lead):
            let place = lead.map { " on lead \($0)" } ?? ""
            text += "technical alarm \(condition.summary)\(place) \(kind.isRaise ? "raised" : "cleared")"
        case .heartRate(let condition):
            text += "\(condition.summary) \(kind.isRaise ? "raised" : "cleared")"
        case .vitals:
            text += "heart rate " + (heartRateBPM.map { "\(Self.format($0, digits: 0)) bpm" } ?? "unknown")
            text +=
                ", window \(Self.format(windowStartSeconds, digits: 1))–\(Self.format(windowEndSeconds, digits: 1)) s"
            return text
        }
        text += ", \(priority.rawValue) priority"
        if case .heartRate = subject {
            text += ", heart rate " + (heartRateBPM.map { "\(Self.format($0, digits: 0)) bpm" } ?? "unknown")
            if let threshold { text += " (limit \(Self.format(Double(threshold), digits: 0)))" }
        }
        if let probability, let threshold, case .finding = subject {
            text +=
                ", p=\(Self.format(Double(probability), digits: 2)) (threshold \(Self.format(Double(threshold), digits: 2)))"
        }
        if let reason {
            text += ", \(reason.rawValue)"
        }
        text += ", window \(Self.format(windowStartSeconds, digits: 1))–\(Self.format(windowEndSeconds, digits: 1)) s"
        return text
    }

    /// `value` with a fixed number of decimals, without Foundation's locale-dependent formatting.
    static func format(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits {
            scale *= 10
        }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled - Double(whole) * scale)
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard digits > 0 else { return "\(sign)\(whole)" }
        let fractionText = String(fraction)
        let padding = String(repeating: "0", count: max(0, digits - fractionText.count))
        return "\(sign)\(whole).\(padding)\(fractionText)"
    }
}
