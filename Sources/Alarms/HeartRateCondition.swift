/// A physiological alarm read off the measured heart rate (the stream's QRS detector), not the network.
public enum HeartRateCondition: String, Sendable, Equatable, Hashable, CaseIterable {
    /// No QRS complex for 4 s on a usable signal.
    case asystole
    /// The rate is below the extreme-bradycardia limit.
    case extremeBradycardia = "extreme-bradycardia"
    /// The rate is above the extreme-tachycardia limit.
    case extremeTachycardia = "extreme-tachycardia"
    /// The rate is below the bradycardia limit.
    case bradycardia
    /// The rate is above the tachycardia limit.
    case tachycardia

    /// Asystole and the extreme rates are `high` (they latch, like every high alarm); the others `medium`.
    public var priority: AlarmPriority {
        switch self {
        case .asystole, .extremeBradycardia, .extremeTachycardia: .high
        case .bradycardia, .tachycardia: .medium
        }
    }

    /// Asystole 3, an extreme rate 2, a rate beyond its limit 1: a more severe condition supersedes a raised one.
    var severity: Int {
        switch self {
        case .asystole: 3
        case .extremeBradycardia, .extremeTachycardia: 2
        case .bradycardia, .tachycardia: 1
        }
    }

    /// A human description, used in journal messages.
    public var summary: String {
        switch self {
        case .asystole: "asystole"
        case .extremeBradycardia: "extreme bradycardia"
        case .extremeTachycardia: "extreme tachycardia"
        case .bradycardia: "bradycardia"
        case .tachycardia: "tachycardia"
        }
    }
}

/// The heart-rate alarms' limits and debounce, as configured (`heart_rate.*`).
public struct HeartRateAlarmSettings: Sendable, Equatable {
    /// The shipped adult limits (docs/alarms.md): bradycardia below 50 bpm, tachycardia above 120, extreme
    /// bradycardia below 40, extreme tachycardia above 150; raised after 2 readings, cleared 5 bpm inside the
    /// limit; the network's STACH and SBRAD yield to the measured rate; a vitals event every 5 s of stream.
    public static let defaults = HeartRateAlarmSettings(
        enabled: true,
        bradycardiaBPM: 50,
        tachycardiaBPM: 120,
        extremeBradycardiaBPM: 40,
        extremeTachycardiaBPM: 150,
        confirmCount: 2,
        hysteresisBPM: 5,
        networkRateClassesYield: true,
        vitalsIntervalSeconds: 5
    )

    /// The network's classes that yield to the measured rate (``networkRateClassesYield``).
    public static let networkRateClasses: Set<String> = ["STACH", "SBRAD"]

    /// Whether asystole and rate alarms are raised at all.
    public var enabled: Bool
    /// A rate below this (bpm) is bradycardia.
    public var bradycardiaBPM: Double
    /// A rate above this (bpm) is tachycardia.
    public var tachycardiaBPM: Double
    /// A rate below this (bpm) is extreme bradycardia.
    public var extremeBradycardiaBPM: Double
    /// A rate above this (bpm) is extreme tachycardia.
    public var extremeTachycardiaBPM: Double
    /// Consecutive readings (one per window) beyond a limit that raise its alarm, or within it that clear it;
    /// asystole, which the rate meter already times, needs one.
    public var confirmCount: Int
    /// A raised rate alarm clears only once the rate is this far (bpm) inside its limit.
    public var hysteresisBPM: Double
    /// While the stream has a measured rate, the network's rate classes (``networkRateClasses``) raise
    /// nothing: the detector counts the beats the labels only describe.
    public var networkRateClassesYield: Bool
    /// Stream seconds between two vitals events of a stream; 0 sends none.
    public var vitalsIntervalSeconds: Double

    /// Settings with these values; see the properties.
    public init(
        enabled: Bool,
        bradycardiaBPM: Double,
        tachycardiaBPM: Double,
        extremeBradycardiaBPM: Double,
        extremeTachycardiaBPM: Double,
        confirmCount: Int,
        hysteresisBPM: Double,
        networkRateClassesYield: Bool,
        vitalsIntervalSeconds: Double
    ) {
        self.enabled = enabled
        self.bradycardiaBPM = bradycardiaBPM
        self.tachycardiaBPM = tachycardiaBPM
        self.extremeBradycardiaBPM = extremeBradycardiaBPM
        self.extremeTachycardiaBPM = extremeTachycardiaBPM
        self.confirmCount = confirmCount
        self.hysteresisBPM = hysteresisBPM
        self.networkRateClassesYield = networkRateClassesYield
        self.vitalsIntervalSeconds = vitalsIntervalSeconds
    }

    /// The limit a condition is raised beyond (nil for asystole).
    public func limit(of condition: HeartRateCondition) -> Double? {
        switch condition {
        case .asystole: nil
        case .extremeBradycardia: extremeBradycardiaBPM
        case .extremeTachycardia: extremeTachycardiaBPM
        case .bradycardia: bradycardiaBPM
        case .tachycardia: tachycardiaBPM
        }
    }

    /// The rate condition at `bpm`, with the limit of the `active` condition (and of the milder one in the same
    /// direction) moved ``hysteresisBPM`` inwards, so that a rate hovering at a limit does not toggle its alarm.
    func condition(atBPM bpm: Double, active: HeartRateCondition?) -> HeartRateCondition? {
        let slow = active == .bradycardia || active == .extremeBradycardia
        let fast = active == .tachycardia || active == .extremeTachycardia
        let margin = hysteresisBPM
        if bpm < extremeBradycardiaBPM + (active == .extremeBradycardia ? margin : 0) { return .extremeBradycardia }
        if bpm < bradycardiaBPM + (slow ? margin : 0) { return .bradycardia }
        if bpm > extremeTachycardiaBPM - (active == .extremeTachycardia ? margin : 0) { return .extremeTachycardia }
        if bpm > tachycardiaBPM - (fast ? margin : 0) { return .tachycardia }
        return nil
    }
}
