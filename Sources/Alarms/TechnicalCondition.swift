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

    /// The priority its alarm is raised with.
    ///
    /// Lead problems are `low` (one lead lost; the other leads may still be read by a clinician), non-finite
    /// samples and a stalled or lost stream are `medium`: the patient is no longer monitored at all.
    public var priority: AlarmPriority {
        switch self {
        case .leadOff, .saturation: .low
        case .nonFiniteSamples, .streamStalled, .streamEndedUnexpectedly: .medium
        }
    }

    /// Whether the condition is read off a window's samples (per lead), rather than off the stream's life.
    public var isPerLead: Bool {
        switch self {
        case .leadOff, .saturation, .nonFiniteSamples: true
        case .streamStalled, .streamEndedUnexpectedly: false
        }
    }

    /// A human description, used in journal messages.
    public var summary: String {
        switch self {
        case .leadOff: "lead off or flat line"
        case .saturation: "signal saturated"
        case .nonFiniteSamples: "non-finite samples"
        case .streamStalled: "stream stalled"
        case .streamEndedUnexpectedly: "stream ended unexpectedly"
        }
    }
}
