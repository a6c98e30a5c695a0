import Stream

/// How windows' probabilities are combined over the aggregation span.
public enum AlarmAggregation: String, Sendable, Equatable, CaseIterable {
    /// The largest probability of the windows in the span (how the model's thresholds were fitted).
    case max
    /// The mean probability of the windows in the span.
    case mean
}

/// The finding alarms' rules, as configured (`alarms.*`).
public struct AlarmSettings: Sendable, Equatable {
    /// The shipped rules (`config/ecg-monitor.yaml`): the max over 10 s, raised after 3 evaluations, cleared
    /// after 5 with a 0.05 margin, ``defaultClasses`` alerting at the model's thresholds.
    public static let defaults = AlarmSettings(
        aggregation: .max,
        spanSeconds: 10,
        confirmCount: 3,
        clearCount: 5,
        hysteresis: 0.05,
        classes: defaultClasses,
        thresholds: [:]
    )

    /// The PTB-XL "all" classes that alarm or are reported by default, with their priority; docs/alarms.md gives
    /// the measured reasons.
    ///
    /// Alarms are rhythm, conduction and acute-injury classes a bedside monitor acts on, and only those whose
    /// alarm operating point (fitted on fold 9 through these rules to a false-alarm budget of 0.5% of records for
    /// acute injury, 1% otherwise) keeps at least 50% sensitivity on at least 10 validation cases and raises on
    /// at most 1% of normal records. Resting-ECG diagnoses (old infarct locations, non-specific ischaemia) and
    /// classes without that evidence are findings (`info`): reported, never alarms.
    public static let defaultClasses: [String: AlarmPriority] = [
        // Acute injury, arrhythmias and conduction changes that need prompt decisions. ST-segment alarms are
        // medium on bedside monitors; high (latching) is left to asystole and the extreme rates, counted beats.
        "INJAS": .medium, "AFIB": .medium, "CLBBB": .medium,
        // Rate and conduction changes worth knowing: awareness.
        "CRBBB": .low, "STACH": .low, "SBRAD": .low,
        // Findings: reported for the record, no alarm.
        "INJAL": .info, "AFLT": .info, "3AVB": .info, "PVC": .info, "BIGU": .info, "WPW": .info,
        "LNGQT": .info, "ASMI": .info, "ALMI": .info, "ILMI": .info, "IMI": .info, "LMI": .info,
        "ISC_": .info, "ISCAS": .info, "ISCIL": .info, "LVH": .info, "1AVB": .info,
    ]

    /// How probabilities are combined over the span.
    public var aggregation: AlarmAggregation
    /// Windows that lie entirely within this many stream seconds before the newest window's end count.
    public var spanSeconds: Double
    /// Consecutive evaluations at or above the threshold that raise an alarm.
    public var confirmCount: Int
    /// Consecutive evaluations below threshold − hysteresis that clear an alarm.
    public var clearCount: Int
    /// Probability margin below the threshold that clearing needs.
    public var hysteresis: Double
    /// The classes that alert, by SCP code, with their priority.
    public var classes: [String: AlarmPriority]
    /// Thresholds replacing the model's, by SCP code.
    public var thresholds: [String: Double]

    /// Settings with these values; see the properties.
    public init(
        aggregation: AlarmAggregation,
        spanSeconds: Double,
        confirmCount: Int,
        clearCount: Int,
        hysteresis: Double,
        classes: [String: AlarmPriority],
        thresholds: [String: Double]
    ) {
        self.aggregation = aggregation
        self.spanSeconds = spanSeconds
        self.confirmCount = confirmCount
        self.clearCount = clearCount
        self.hysteresis = hysteresis
        self.classes = classes
        self.thresholds = thresholds
    }
}

/// The technical alarms' limits and debounce, as configured (`technical.*`).
public struct TechnicalAlarmSettings: Sendable, Equatable {
    /// The shipped limits: the stream's (``SignalQualityThresholds/standard``: flat below 0.005 mV peak to
    /// peak, saturated from 10 mV), raised and cleared after two windows.
    public static let defaults = TechnicalAlarmSettings(
        flatLineMillivolts: SignalQualityThresholds.standard.flatLinePeakToPeakMillivolts,
        saturationMillivolts: SignalQualityThresholds.standard.saturationMillivolts,
        raiseCount: 2,
        clearCount: 2
    )

    /// A lead whose peak-to-peak amplitude in a window is below this (mV) is flat.
    public var flatLineMillivolts: Double
    /// A sample whose magnitude reaches this (mV) is saturated.
    public var saturationMillivolts: Double
    /// Consecutive faulty windows that raise a window-based technical alarm.
    public var raiseCount: Int
    /// Consecutive clean windows that clear it.
    public var clearCount: Int

    /// Settings with these values; see the properties.
    public init(flatLineMillivolts: Double, saturationMillivolts: Double, raiseCount: Int, clearCount: Int) {
        self.flatLineMillivolts = flatLineMillivolts
        self.saturationMillivolts = saturationMillivolts
        self.raiseCount = raiseCount
        self.clearCount = clearCount
    }
}
