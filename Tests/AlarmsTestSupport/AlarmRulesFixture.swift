import Alarms

/// A three-class model: NORM (never alerts), AFIB (medium, threshold 0.5), 3AVB (high, threshold 0.6).
package func makeRules(
    spanSeconds: Double = 0,
    aggregation: AlarmAggregation = .max,
    confirmCount: Int = 3,
    clearCount: Int = 2,
    hysteresis: Double = 0.1,
    classes: [String: AlarmPriority] = ["AFIB": .medium, "3AVB": .high],
    thresholds: [String: Double] = [:]
) throws -> AlarmRules {
    var alarms = AlarmSettings.defaults
    alarms.aggregation = aggregation
    alarms.spanSeconds = spanSeconds
    alarms.confirmCount = confirmCount
    alarms.clearCount = clearCount
    alarms.hysteresis = hysteresis
    alarms.classes = classes
    alarms.thresholds = thresholds
    return try AlarmRules(
        alarms: alarms,
        technical: TechnicalAlarmSettings.defaults,
        classes: [
            (code: "NORM", description: "normal ECG", threshold: 0.5),
            (code: "AFIB", description: "atrial fibrillation", threshold: 0.5),
            (code: "3AVB", description: "third degree AV block", threshold: 0.6),
        ],
        leadNames: ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"],
        model: "test-model"
    )
}
