/// A set of leads by their index in the model's lead order (bit i = lead i).
public struct LeadSet: OptionSet, Sendable, Hashable {
    /// Bit i set when lead i is in the set.
    public var rawValue: UInt16

    /// The set with these bits.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// The set holding only the lead at `index` (0…15).
    public init(leadIndex index: Int) {
        precondition((0..<16).contains(index), "lead index out of range")
        rawValue = 1 << UInt16(index)
    }

    /// Whether the lead at `index` is in the set.
    public func contains(leadIndex index: Int) -> Bool {
        (0..<16).contains(index) && rawValue & (1 << UInt16(index)) != 0
    }

    /// The lead indices in the set, ascending.
    public var leadIndices: [Int] {
        (0..<16).filter { contains(leadIndex: $0) }
    }
}

/// Thresholds of the technical checks made on every window's raw signal.
public struct SignalQualityThresholds: Sendable, Equatable {
    /// A lead whose peak-to-peak amplitude over the window is below this is flat (lead off or disconnected),
    /// mV. Default 0.05: a real 12-lead ECG lead spans at least 0.25 mV in every 2.5 s window of the PTB-XL,
    /// CinC 2021 and PTB sample records, so the default leaves a 5× margin while catching a lead that only
    /// shows amplifier noise.
    public var flatLinePeakToPeakMillivolts: Double
    /// An input sample whose magnitude exceeds this is saturated, mV, as is an `i16le` sample at a rail.
    /// Default 10: above any physiological QRS (the sample records peak at 4.5 mV) and twice the ±5 mV input
    /// range that diagnostic ECG amplifiers must cover.
    public var saturationMillivolts: Double

    /// The defaults above.
    public static let standard = SignalQualityThresholds(flatLinePeakToPeakMillivolts: 0.05, saturationMillivolts: 10)

    /// Creates thresholds; ``PipelineConfiguration`` validates them.
    public init(flatLinePeakToPeakMillivolts: Double, saturationMillivolts: Double) {
        self.flatLinePeakToPeakMillivolts = flatLinePeakToPeakMillivolts
        self.saturationMillivolts = saturationMillivolts
    }
}

/// The technical condition of one window, from its raw signal (resampled, in mV, before preprocessing).
///
/// A window with any fault (``hasTechnicalFault``) must not be classified; the flags name what to alarm on.
public struct SignalQuality: Sendable, Equatable {
    /// Leads whose peak-to-peak amplitude is below the flat-line threshold.
    public var flatLeads: LeadSet
    /// Leads with at least one saturated input sample in the window.
    public var saturatedLeads: LeadSet
    /// Leads with at least one non-finite input sample in the window (replaced before filtering).
    public var nonFiniteLeads: LeadSet
    /// Model-rate samples, counted per lead, whose input included a non-finite value.
    public var nonFiniteSampleCount: Int
    /// Model-rate instants of the window that fall in a gap of lost frames (filled by holding the last value).
    public var missingSampleCount: Int

    /// A window without any fault.
    public static let clean = SignalQuality(
        flatLeads: [],
        saturatedLeads: [],
        nonFiniteLeads: [],
        nonFiniteSampleCount: 0,
        missingSampleCount: 0
    )

    /// Creates a summary.
    public init(
        flatLeads: LeadSet,
        saturatedLeads: LeadSet,
        nonFiniteLeads: LeadSet,
        nonFiniteSampleCount: Int,
        missingSampleCount: Int
    ) {
        self.flatLeads = flatLeads
        self.saturatedLeads = saturatedLeads
        self.nonFiniteLeads = nonFiniteLeads
        self.nonFiniteSampleCount = nonFiniteSampleCount
        self.missingSampleCount = missingSampleCount
    }

    /// Whether any check failed.
    public var hasTechnicalFault: Bool {
        !flatLeads.isEmpty || !saturatedLeads.isEmpty || !nonFiniteLeads.isEmpty || missingSampleCount > 0
    }
}

/// Per-sample fault bits kept alongside the raw signal.
enum SampleFlags {
    static let saturated: UInt8 = 1
    static let nonFinite: UInt8 = 2
    static let missing: UInt8 = 4
}
