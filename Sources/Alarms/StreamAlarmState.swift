import Beats

/// Everything the ``AlarmEngine`` remembers about one stream: recent windows and each alarm's debounce.
struct StreamAlarmState: Sendable {
    /// A classified window kept for aggregation.
    struct RecentWindow: Sendable {
        var startSeconds: Double
        var endSeconds: Double
        /// One per model output.
        var probabilities: [Float]
    }

    /// A per-lead or per-stream technical alarm.
    struct TechnicalKey: Sendable, Hashable, Comparable {
        var condition: TechnicalCondition
        /// Lead index for per-lead conditions.
        var lead: Int?

        static func < (lhs: TechnicalKey, rhs: TechnicalKey) -> Bool {
            (lhs.lead ?? -1, lhs.condition.rawValue) < (rhs.lead ?? -1, rhs.condition.rawValue)
        }
    }

    /// Debounce of one finding alarm.
    struct FindingState: Sendable {
        enum Transition {
            case raised
            case cleared
        }

        /// Consecutive evaluations at or above the threshold.
        var aboveCount = 0
        /// Consecutive evaluations below threshold − hysteresis.
        var belowCount = 0
        /// Raised and not yet cleared.
        var isActive = false
        /// The debounced condition holds; a latched alarm stays active after this turns false.
        var conditionPresent = false
        /// A latched alarm was acknowledged while its condition held: it clears when the condition ends.
        var isAcknowledged = false
        /// The aggregated probability at the last evaluation.
        var lastAggregate: Float = 0

        /// Applies one evaluation; returns the transition it causes, if any.
        ///
        /// Between threshold − hysteresis and the threshold both counts restart: neither raising nor clearing
        /// makes progress in the band. High-priority alarms latch: they stay active after the condition ends
        /// until acknowledged (or their stream ends).
        mutating func evaluate(
            aggregate: Float,
            rule: AlarmRules.ClassRule,
            confirmCount: Int,
            clearCount: Int,
            hysteresis: Float
        ) -> Transition? {
            lastAggregate = aggregate
            if aggregate >= rule.threshold {
                aboveCount += 1
                belowCount = 0
            } else if aggregate < rule.threshold - hysteresis {
                belowCount += 1
                aboveCount = 0
            } else {
                aboveCount = 0
                belowCount = 0
            }
            if aboveCount >= confirmCount {
                conditionPresent = true
                if !isActive {
                    isActive = true
                    isAcknowledged = false
                    return .raised
                }
            } else if belowCount >= clearCount {
                conditionPresent = false
            }
            let latches = rule.priority == .high && !isAcknowledged
            if isActive && !conditionPresent && !latches {
                isActive = false
                isAcknowledged = false
                return .cleared
            }
            return nil
        }
    }

    /// Debounce of one window-based technical alarm.
    struct TechnicalState: Sendable {
        var faultCount = 0
        var cleanCount = 0
        var isActive = false

        /// Applies one window; returns true when the alarm changes state (raised or cleared).
        mutating func observe(faulty: Bool, raiseCount: Int, clearCount: Int) -> Bool {
            if faulty {
                faultCount += 1
                cleanCount = 0
            } else {
                cleanCount += 1
                faultCount = 0
            }
            if !isActive && faultCount >= raiseCount {
                isActive = true
                return true
            }
            if isActive && cleanCount >= clearCount {
                isActive = false
                return true
            }
            return false
        }
    }

    /// Classified windows within the span, oldest first.
    var recent: [RecentWindow] = []
    /// Finding debounce by model output index; only classes that alert have an entry.
    var findings: [Int: FindingState] = [:]
    /// Technical debounce; entries are dropped once inactive and clean.
    var technical: [TechnicalKey: TechnicalState] = [:]
    /// The last window seen (classified or skipped), stream seconds.
    var lastWindow: (startSeconds: Double, endSeconds: Double)?
    /// The stall alarm is raised.
    var isStalled = false
    /// The heart rate the newest window carried.
    var heartRate: HeartRateReading?
    /// The heart-rate alarm's debounce.
    var rate = HeartRateAlarmState()
    /// Stream time at or after which the next vitals event is due.
    var nextVitalsSeconds = 0.0

    /// Adds a classified window and forgets those that no longer lie within `spanSeconds` of its end.
    ///
    /// The newest window is always kept, so a span of 0 aggregates the newest window alone.
    mutating func remember(_ window: RecentWindow, spanSeconds: Double) {
        recent.append(window)
        let oldestStart = window.endSeconds - spanSeconds
        if let keepFrom = recent.firstIndex(where: { $0.startSeconds >= oldestStart }) {
            recent.removeFirst(min(keepFrom, recent.count - 1))
        } else {
            recent.removeFirst(recent.count - 1)
        }
    }

    /// The aggregated probability of output `index` over the recent windows.
    func aggregate(_ index: Int, by aggregation: AlarmAggregation) -> Float {
        switch aggregation {
        case .max:
            return recent.reduce(0) { max($0, $1.probabilities[index]) }
        case .mean:
            guard !recent.isEmpty else { return 0 }
            return recent.reduce(0) { $0 + $1.probabilities[index] } / Float(recent.count)
        }
    }

    /// Active alarms, technical ones included; reported findings (classes at `info` priority) are no alarms.
    func activeAlarmCount(rules: AlarmRules) -> Int {
        let findingAlarms = findings.count { index, state in
            state.isActive && rules.classRules[index]?.priority.isAlarm == true
        }
        return findingAlarms + technical.values.count(where: \.isActive) + (isStalled ? 1 : 0)
            + (rate.active == nil ? 0 : 1)
    }
}
