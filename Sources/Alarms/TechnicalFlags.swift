import Stream

/// The technical faults found in one window, per lead.
///
/// A window with any fault is not classified: the caller tells the ``AlarmEngine`` to skip it with these flags.
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

    /// Inspects one window of raw samples.
    ///
    /// A lead with non-finite samples is reported as such only (its amplitude is meaningless), so one broken
    /// lead raises one technical alarm.
    ///
    /// - Parameters:
    ///   - window: Leads-major `[leads][samplesPerLead]`, row-major, millivolts, before any preprocessing.
    ///   - leads: Number of leads in the window, at most 16 (what a ``LeadSet`` holds).
    ///   - samplesPerLead: Samples of each lead, at least 1.
    ///   - flatLineMillivolts: A lead whose max − min is below this is flat.
    ///   - saturationMillivolts: A sample whose magnitude is at least this is saturated.
    /// - Complexity: O(leads × samplesPerLead), no allocation.
    public init(
        inspecting window: UnsafeBufferPointer<Float>,
        leads: Int,
        samplesPerLead: Int,
        flatLineMillivolts: Float,
        saturationMillivolts: Float
    ) {
        precondition(leads > 0 && leads <= 16, "lead count \(leads) outside 1...16")
        precondition(samplesPerLead > 0 && window.count == leads * samplesPerLead, "window is not [leads][samples]")
        self.init()
        for lead in 0..<leads {
            let samples = UnsafeBufferPointer(rebasing: window[lead * samplesPerLead..<(lead + 1) * samplesPerLead])
            var low = Float.infinity
            var high = -Float.infinity
            var finite = true
            for sample in samples {
                guard sample.isFinite else {
                    finite = false
                    break
                }
                low = min(low, sample)
                high = max(high, sample)
            }
            if !finite {
                nonFiniteLeads.insert(LeadSet(leadIndex: lead))
                continue
            }
            if high - low < flatLineMillivolts {
                flatLeads.insert(LeadSet(leadIndex: lead))
            }
            if max(high, -low) >= saturationMillivolts {
                saturatedLeads.insert(LeadSet(leadIndex: lead))
            }
        }
    }

    /// The faults the stream pipeline found in a window (``SignalQuality``, from the raw resampled signal).
    ///
    /// As with ``init(inspecting:leads:samplesPerLead:flatLineMillivolts:saturationMillivolts:)``, a lead with
    /// non-finite samples is reported as such only (the pipeline holds its last finite value, which may look
    /// flat). A window whose only fault is a gap of lost frames has no per-lead flag: it is not classified, and
    /// raises no technical alarm of its own.
    /// A noisy window (``WindowVerdict/noisySignal``) is flagged as a whole.
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
