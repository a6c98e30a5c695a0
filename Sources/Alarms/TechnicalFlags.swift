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
    /// Too many leads are noisy for the window to be classified.
    public var noisySignal = false
    /// Windows of the stream lost (replaced by a newer one before classification) just before this one.
    public var windowsLostBefore = 0

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
    /// frames has no per-lead flag: it is not classified, and raises no technical alarm of its own. A noisy window
    /// (``WindowVerdict/noisySignal``) is flagged as a whole.
    ///
    /// - Parameters:
    ///   - quality: The window's quality, from the stream pipeline.
    ///   - windowsLostBefore: Windows of the stream lost just before this one.
    public init(quality: SignalQuality, windowsLostBefore: Int = 0) {
        self.init(
            flatLeads: quality.flatLeads.subtracting(quality.nonFiniteLeads),
            saturatedLeads: quality.saturatedLeads.subtracting(quality.nonFiniteLeads),
            nonFiniteLeads: quality.nonFiniteLeads
        )
        noisySignal = quality.verdict == .noisySignal
        self.windowsLostBefore = windowsLostBefore
    }

    /// Whether any condition is flagged.
    public var isFaulted: Bool {
        !flatLeads.isEmpty || !saturatedLeads.isEmpty || !nonFiniteLeads.isEmpty || noisySignal
            || windowsLostBefore > 0
    }

    /// Whether a per-window condition (``TechnicalCondition/isPerWindow``) is flagged.
    public func isFlagged(_ condition: TechnicalCondition) -> Bool {
        switch condition {
        case .noisySignal: noisySignal
        case .monitoringDegraded: windowsLostBefore > 0
        default: false
        }
    }

    /// The leads flagged with `condition`; empty for conditions that are not per lead.
    public func leads(with condition: TechnicalCondition) -> LeadSet {
        switch condition {
        case .leadOff: flatLeads
        case .saturation: saturatedLeads
        case .nonFiniteSamples: nonFiniteLeads
        case .streamStalled, .streamEndedUnexpectedly, .noisySignal, .monitoringDegraded: []
        }
    }
}
