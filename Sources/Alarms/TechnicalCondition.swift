/// A technical alarm condition: the monitor cannot watch the patient properly, as opposed to a finding.
public enum TechnicalCondition: String, Sendable, Equatable, Hashable, CaseIterable {
    /// A lead is flat (peak-to-peak below the flat-line limit for a whole window): electrode off or broken.
    case leadOff = "lead-off"
    /// A lead reached the saturation limit: amplifier clipping, the shape of the signal is lost.
    case saturation
    /// A lead carried NaN or infinite samples.
    case nonFiniteSamples = "non-finite-samples"
    /// No data arrived on the stream for longer than the stall timeout.
    case streamStalled = "stream-stalled"
    /// The stream closed without announcing its end.
    case streamEndedUnexpectedly = "stream-ended-unexpectedly"
    /// Too many leads are noisy (muscle, motion, mains) for the window to be classified: findings are not
    /// updated while it lasts, rather than noise becoming diagnoses.
    case noisySignal = "noisy-signal"
    /// Windows of the stream were lost before they were classified (the inference side fell behind): part of
    /// the stream went unwatched.
    case monitoringDegraded = "monitoring-degraded"

    /// The priority its alarm is raised with.
    ///
    /// Saturation is `low` (one lead's shape lost; it is masked and the others are classified). A lead off is
    /// `medium`: it is masked too, but an electrode needs reattaching before a second one goes. Non-finite
    /// samples, a noisy signal, lost windows and a stalled or lost stream are `medium`: the patient is not, or
    /// not fully, monitored.
    public var priority: AlarmPriority {
        switch self {
        case .saturation: .low
        case .leadOff, .nonFiniteSamples, .streamStalled, .streamEndedUnexpectedly, .noisySignal,
            .monitoringDegraded:
            .medium
        }
    }

    /// Whether the condition is read off a window's samples per lead.
    public var isPerLead: Bool {
        switch self {
        case .leadOff, .saturation, .nonFiniteSamples: true
        case .streamStalled, .streamEndedUnexpectedly, .noisySignal, .monitoringDegraded: false
        }
    }

    /// Whether the condition is flagged on a window as a whole (debounced over windows, like the per-lead ones),
    /// rather than read off the stream's life.
    public var isPerWindow: Bool {
        self == .noisySignal || self == .monitoringDegraded
    }

    /// A human description, used in journal messages.
    public var summary: String {
        switch self {
        case .leadOff: "lead off or flat line"
        case .saturation: "signal saturated"
        case .nonFiniteSamples: "non-finite samples"
        case .streamStalled: "stream stalled"
        case .streamEndedUnexpectedly: "stream ended unexpectedly"
        case .noisySignal: "noisy signal, not classified"
        case .monitoringDegraded: "windows lost, monitoring degraded"
        }
    }
}
