import Alarms

/// Events covering every optional field: a finding raised, a finding cleared, a per-lead technical alarm.
package let sampleEvents: [AlertEvent] = [
    AlertEvent(
        kind: .raised,
        stream: "bed-4",
        subject: .finding(code: "AFIB", description: "atrial fibrillation"),
        priority: .medium,
        probability: 0.9137,
        threshold: 0.41,
        windowStartSeconds: 12,
        windowEndSeconds: 14.5,
        model: "ecg-incepse-all"
    ),
    AlertEvent(
        kind: .cleared,
        stream: "bed-4",
        subject: .finding(code: "3AVB", description: "third degree AV block"),
        priority: .high,
        probability: 0.02,
        threshold: 0.6,
        windowStartSeconds: 80.5,
        windowEndSeconds: 83,
        reason: .acknowledged,
        model: "ecg-incepse-all"
    ),
    AlertEvent(
        kind: .technicalRaised,
        stream: "bed 7 \"east\"",
        subject: .technical(.leadOff, lead: "V1"),
        priority: .low,
        windowStartSeconds: 3.5,
        windowEndSeconds: 6,
        model: "ecg-incepse-all"
    ),
]
