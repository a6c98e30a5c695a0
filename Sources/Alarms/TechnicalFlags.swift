import Stream

/// The technical faults found in one window, per lead.
///
/// A window with any fault (``SignalQuality/hasTechnicalFault``) is not classified: the caller tells the
/// ``AlarmEngine`` to skip it with these flags.
public struct TechnicalFlags: Sendable, Equatable {
    /// Leads whose peak-to-peak amplitude stayed below the flat-line limit over the whole window.
    public var flatLeads: LeadSet
    /// Leads with at least one sample at or beyond the saturation limit.
    public var saturatedLeads: LeadSet
    /// Leads with at least one NaN or infinite sample.
    public var nonFiniteLeads: LeadSet

    /// Flags with the given faulty leads (none by default).
    public init(
        flatLeads: LeadSet = [],
        saturatedLeads: LeadSet = [],
        nonFiniteLeads: LeadSet = []
    ) {
        self.flatLeads = flatLeads
        self.saturatedLeads = saturatedLeads
        self.nonFiniteLeads = nonFiniteLeads
    }

    /// The faults the stream pipeline found in a window (``SignalQuality``, from the raw resampled signal).
    ///
    /// A lead with non-finite samples is reported as such only: the pipeline holds its last finite value, which
    /// may look flat, and one broken lead raises one technical alarm. A window whose only fault is a gap of lost
    /// frames has no per-lead flag: it is not classified, and raises no technical alarm of its own.
    public init(quality: SignalQuality) {
        self.init(
            flatLeads: quality.flatLeads.subtracting(quality.nonFiniteLeads),
            saturatedLeads: quality.saturatedLeads.subtracting(quality.nonFiniteLeads),
            nonFiniteLeads: quality.nonFiniteLeads
        )
    }

    /// The leads flagged with `condition`; empty for conditions that are not per lead.
    public func leads(with condition: TechnicalCondition) -> LeadSet {
        switch condition {
        case .leadOff: flatLeads
        case .saturation: saturatedLeads
        case .nonFiniteSamples: nonFiniteLeads
        case .streamStalled, .streamEndedUnexpectedly: []
        }
    }
}
