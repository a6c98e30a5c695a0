/// The alarm rules resolved against one model: which outputs alert, at what threshold and priority, and the
/// debounce and aggregation settings. Built from the configuration at start-up and again on every reload.
public struct AlarmRules: Sendable, Equatable {
    /// The rule of one alerting class.
    public struct ClassRule: Sendable, Equatable {
        /// SCP code.
        public var code: String
        /// Human description.
        public var description: String
        /// Threshold in force: the config's override, else the model's.
        public var threshold: Float
        /// Priority of its alarm.
        public var priority: AlarmPriority
    }

    /// One entry per model output, in output order; nil where the class does not alert.
    public var classRules: [ClassRule?]
    /// How windows are combined over the span.
    public var aggregation: AlarmAggregation
    /// Aggregation span, stream seconds.
    public var spanSeconds: Double
    /// Consecutive evaluations at or above threshold that raise.
    public var confirmCount: Int
    /// Consecutive evaluations below threshold − hysteresis that clear.
    public var clearCount: Int
    /// Clearing margin below the threshold.
    public var hysteresis: Float
    /// Consecutive faulty windows that raise a window-based technical alarm.
    public var technicalRaiseCount: Int
    /// Consecutive clean windows that clear it.
    public var technicalClearCount: Int
    /// Consecutive windows without a loss that clear "monitoring degraded": the aggregation span's worth at
    /// the default 0.5 s hop, so the alarm outlasts every window a loss could have hidden.
    public var degradedClearCount: Int { max(technicalClearCount, Int((spanSeconds / 0.5).rounded(.up))) }
    /// The heart-rate alarms' limits and debounce.
    public var heartRate: HeartRateAlarmSettings
    /// Model outputs that raise nothing while the stream has a measured rate (the network's rate classes, when
    /// ``HeartRateAlarmSettings/networkRateClassesYield``).
    public var rateYieldingClasses: Set<Int>
    /// Lead names in the model's input order, for technical alarms.
    public var leadNames: [String]
    /// The model's name, stamped on every event.
    public var model: String

    /// Resolves the configured rules against the model's classes.
    ///
    /// - Parameters:
    ///   - alarms: The configured finding rules.
    ///   - technical: The configured technical debounce.
    ///   - heartRate: The configured heart-rate alarms.
    ///   - classes: The model's classes in output order: SCP code, description, and the probability at or above
    ///     which the model's training counts the class present.
    ///   - leadNames: The model's leads in input order.
    ///   - model: The model's name.
    /// - Throws: ``AlarmsError/unknownAlarmClass(key:code:)`` when the configuration names a class the model
    ///   lacks: a typo must not silently disable an alarm.
    public init(
        alarms: AlarmSettings,
        technical: TechnicalAlarmSettings,
        heartRate: HeartRateAlarmSettings = .defaults,
        classes: [(code: String, description: String, threshold: Float)],
        leadNames: [String],
        model: String
    ) throws(AlarmsError) {
        let known = Set(classes.map(\.code))
        for code in alarms.classes.keys.sorted() where !known.contains(code) {
            throw .unknownAlarmClass(key: "alarms.classes.\(code)", code: code)
        }
        for code in alarms.thresholds.keys.sorted() where !known.contains(code) {
            throw .unknownAlarmClass(key: "alarms.thresholds.\(code)", code: code)
        }
        classRules = classes.map { modelClass in
            alarms.classes[modelClass.code].map { priority in
                ClassRule(
                    code: modelClass.code,
                    description: modelClass.description,
                    threshold: alarms.thresholds[modelClass.code].map(Float.init) ?? modelClass.threshold,
                    priority: priority
                )
            }
        }
        aggregation = alarms.aggregation
        spanSeconds = alarms.spanSeconds
        confirmCount = alarms.confirmCount
        clearCount = alarms.clearCount
        hysteresis = Float(alarms.hysteresis)
        technicalRaiseCount = technical.raiseCount
        technicalClearCount = technical.clearCount
        self.heartRate = heartRate
        rateYieldingClasses =
            heartRate.networkRateClassesYield
            ? Set(classes.indices.filter { HeartRateAlarmSettings.networkRateClasses.contains(classes[$0].code) }) : []
        self.leadNames = leadNames
        self.model = model
    }

    /// The number of model outputs.
    public var classCount: Int { classRules.count }

    /// The name of lead `index`, or `lead<index>` past the model's list.
    public func leadName(_ index: Int) -> String {
        leadNames.indices.contains(index) ? leadNames[index] : "lead\(index)"
    }
}
