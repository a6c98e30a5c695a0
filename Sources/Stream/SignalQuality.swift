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

    /// Leads in the set.
    public var count: Int { rawValue.nonzeroBitCount }
}

/// Thresholds of the technical checks made on every window's raw signal, and how many faulty leads a window
/// may have and still be classified.
///
/// The noise and wander defaults were fitted on the PTB-XL (all 21,799 records, 100 Hz) and on clean records
/// with added noise of known power (`PTBXLSurveyTests`, run with `ECG_PTBXL_DIR` set, and `SignalQualityTests`
/// reproduce the figures quoted here).
public struct SignalQualityThresholds: Sendable, Equatable {
    /// A lead whose peak-to-peak amplitude over the window is below this is flat (lead off or disconnected),
    /// mV. Default 0.005: a lead whose electrode is off reads a constant (or sits at a rail, which is
    /// saturation), while a patient in asystole still shows the amplifier's noise: 10 µV RMS of it spans
    /// 0.02–0.03 mV in a 2.5 s window at 100 Hz, and a higher limit would report that asystole as leads off and
    /// silence its alarm. A real 12-lead ECG lead spans at least 0.25 mV in every 2.5 s window of the PTB-XL,
    /// CinC 2021 and PTB sample records.
    public var flatLinePeakToPeakMillivolts: Double
    /// An input sample whose magnitude exceeds this is saturated, mV, as is an `i16le` sample at a rail.
    /// Default 10: above any physiological QRS (the sample records peak at 4.5 mV) and twice the ±5 mV input
    /// range that diagnostic ECG amplifiers must cover.
    public var saturationMillivolts: Double
    /// A lead whose estimated noise-to-signal power ratio over the window exceeds this is noisy.
    ///
    /// The noise power is that of broadband noise estimated from the quietest quarter of the window (the
    /// second difference's power in 0.1 s blocks over its gain for white noise, see ``SignalQualityMeter``); the
    /// signal power is the window's variance, noise included. Default 0.22: with 12-lead noise of a given SNR
    /// (relative to each lead's variance) the median lead reads 0.12–0.14 at 6 dB and 0.27–0.33 at 0 dB; no lead
    /// of an unannotated PTB-XL record exceeds it in 99.997% of 2.5 s windows.
    public var noiseRatio: Double
    /// A lead whose 0.5 Hz low-passed signal moves by more than this within the window shows baseline wander,
    /// mV; a flag, not a fault. Default 3: exceeded in 0.17% of unannotated PTB-XL windows (1.2% of those
    /// records) and in 15% of the records annotated with baseline drift; the sample records peak at 2.7 mV
    /// (a Chapman record's V6) and a 0.5 mV, 0.3 Hz wander (1 mV peak to peak) stays well below it.
    public var baselineWanderMillivolts: Double
    /// A lead whose mains component (50 or 60 Hz, measured at the input rate when it exceeds 150 Hz) has a
    /// larger amplitude than this shows powerline interference, mV; a flag, not a fault. Default 0.05.
    public var powerlineMillivolts: Double
    /// Most leads off (flat, saturated or non-finite) that a window may have and still be classified with
    /// those leads masked, and never more than a quarter of the model's leads. Default 3: one limb electrode off
    /// takes out five derived limb leads and the window is not classified; up to three precordial electrodes
    /// (one lead each) may come off.
    public var maxMaskedLeads: Int
    /// Most noisy leads a window may have and still be classified. Default 6: a window is noisy when more than
    /// half of the twelve leads are. On the sample records with 12-lead muscle noise, 0 dB makes 100% (100 Hz
    /// input) and 97% (500 Hz) of windows noisy, 6 dB 3.4% and 0%; no unannotated PTB-XL window has more than two
    /// noisy leads.
    public var maxNoisyLeads: Int
    /// A window whose beat detector's noise estimate (``SignalQuality/beatNoiseRatio``) exceeds this is noisy:
    /// its beats, and so the heart rate and asystole, cannot be trusted even when each lead passes. Default 0.5:
    /// on PTB-XL fold 10 from 5 s into each record the estimate's 99.9th percentile is 0.30 clean and 0.56 at
    /// 0 dB of muscle noise (median 0.19, so it does not replace the per-lead measure), and 0.5 is exceeded in
    /// 0.03% of clean windows.
    public var maxBeatNoiseRatio: Double

    /// The defaults above.
    public static let standard = SignalQualityThresholds(flatLinePeakToPeakMillivolts: 0.005, saturationMillivolts: 10)

    /// Creates thresholds; ``PipelineConfiguration`` validates them.
    public init(
        flatLinePeakToPeakMillivolts: Double,
        saturationMillivolts: Double,
        noiseRatio: Double = 0.22,
        baselineWanderMillivolts: Double = 3,
        powerlineMillivolts: Double = 0.05,
        maxMaskedLeads: Int = 3,
        maxNoisyLeads: Int = 6,
        maxBeatNoiseRatio: Double = 0.5
    ) {
        self.flatLinePeakToPeakMillivolts = flatLinePeakToPeakMillivolts
        self.saturationMillivolts = saturationMillivolts
        self.noiseRatio = noiseRatio
        self.baselineWanderMillivolts = baselineWanderMillivolts
        self.powerlineMillivolts = powerlineMillivolts
        self.maxMaskedLeads = maxMaskedLeads
        self.maxNoisyLeads = maxNoisyLeads
        self.maxBeatNoiseRatio = maxBeatNoiseRatio
    }
}

/// Whether a window can be classified, and if not, why.
public enum WindowVerdict: Sendable, Equatable {
    /// Classify it, with the leads in ``SignalQuality/maskedLeads`` set to zero in the model input.
    case classifiable
    /// More leads are noisy than ``SignalQualityThresholds/maxNoisyLeads``: a "noisy signal" condition.
    case noisySignal
    /// More leads are off than ``SignalQualityThresholds/maxMaskedLeads``: a lead-off condition.
    case tooManyLeadsOff
    /// Part of the window was filled in for lost frames; not classified, no condition of its own.
    case missingSamples
}

/// The technical condition of one window, from its raw signal (in mV, before preprocessing).
///
/// Leads are off (flat, saturated or non-finite: masked in the model input), noisy, or good; wander and
/// powerline are flags that do not stop classification. ``verdict`` says whether to classify.
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
    /// Leads that are not off but whose noise-to-signal ratio exceeds the threshold.
    public var noisyLeads: LeadSet
    /// Leads whose baseline moved more than the wander threshold within the window.
    public var wanderingLeads: LeadSet
    /// Leads with mains interference at the input above the powerline threshold.
    public var powerlineLeads: LeadSet
    /// The beat detector's noise estimate as the window completed (its noise peak level over its QRS peak level,
    /// ``QRSDetector/noiseRatio``); nil while it learns.
    public var beatNoiseRatio: Double?
    /// Leads set to zero in the model input: every lead that is off, when the window is classifiable; none
    /// otherwise (such a window is not for the model).
    public var maskedLeads: LeadSet
    /// Whether to classify the window.
    public var verdict: WindowVerdict

    /// A window without any fault.
    public static let clean = SignalQuality(
        flatLeads: [],
        saturatedLeads: [],
        nonFiniteLeads: [],
        nonFiniteSampleCount: 0,
        missingSampleCount: 0
    )

    /// Creates a summary judged without masking: any lead off stops classification, as does a gap. The pipeline
    /// judges its windows with its thresholds and lead count instead.
    public init(
        flatLeads: LeadSet,
        saturatedLeads: LeadSet,
        nonFiniteLeads: LeadSet,
        nonFiniteSampleCount: Int,
        missingSampleCount: Int,
        noisyLeads: LeadSet = [],
        wanderingLeads: LeadSet = [],
        powerlineLeads: LeadSet = []
    ) {
        self.flatLeads = flatLeads
        self.saturatedLeads = saturatedLeads
        self.nonFiniteLeads = nonFiniteLeads
        self.nonFiniteSampleCount = nonFiniteSampleCount
        self.missingSampleCount = missingSampleCount
        self.noisyLeads = noisyLeads
        self.wanderingLeads = wanderingLeads
        self.powerlineLeads = powerlineLeads
        maskedLeads = []
        let off = flatLeads.union(saturatedLeads).union(nonFiniteLeads)
        verdict = missingSampleCount > 0 ? .missingSamples : off.isEmpty ? .classifiable : .tooManyLeadsOff
    }

    /// Leads that are flat, saturated or non-finite.
    public var offLeads: LeadSet { flatLeads.union(saturatedLeads).union(nonFiniteLeads) }

    /// The quality of each lead, by index: off, noisy or good.
    public func leadQuality(leadIndex index: Int) -> LeadQuality {
        if offLeads.contains(leadIndex: index) { return .off }
        return noisyLeads.contains(leadIndex: index) ? .noisy : .good
    }

    /// Whether any lead is off or frames were lost: the checks this type made before noise was measured.
    public var hasTechnicalFault: Bool {
        !offLeads.isEmpty || missingSampleCount > 0
    }

    /// Whether ``verdict`` is ``WindowVerdict/classifiable``.
    public var isClassifiable: Bool { verdict == .classifiable }

    /// Sets ``maskedLeads`` and ``verdict`` from the lead sets and `thresholds`' limits; at most a quarter of
    /// the `leadCount` model leads may be masked, whatever the threshold says (a one-lead model masks none).
    mutating func decideVerdict(_ thresholds: SignalQualityThresholds, leadCount: Int) {
        noisyLeads.subtract(offLeads)
        verdict =
            if missingSampleCount > 0 {
                .missingSamples
            } else if offLeads.count > min(thresholds.maxMaskedLeads, leadCount / 4) {
                .tooManyLeadsOff
            } else if noisyLeads.count > thresholds.maxNoisyLeads
                || beatNoiseRatio.map({ $0 > thresholds.maxBeatNoiseRatio }) == true
            {
                .noisySignal
            } else {
                .classifiable
            }
        maskedLeads = verdict == .classifiable ? offLeads : []
    }
}

/// The state of one lead in one window.
public enum LeadQuality: Sendable, Equatable {
    /// Usable.
    case good
    /// Usable but noisy; the window is noisy when too many leads are.
    case noisy
    /// Flat, saturated or non-finite: masked in the model input.
    case off
}

/// Per-sample fault bits kept alongside the raw signal.
enum SampleFlags {
    static let saturated: UInt8 = 1
    static let nonFinite: UInt8 = 2
    static let missing: UInt8 = 4
}
