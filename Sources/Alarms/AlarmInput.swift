import Beats

/// One thing that happened to a stream or to the rules, for ``AlarmEngine/apply(_:)``.
public enum AlarmInput: Sendable {
    /// A window was classified: probabilities in model output order, what it was classified despite (masked
    /// leads, windows lost before it), and the stream's heart rate as it completed.
    case classified(
        stream: String,
        startSeconds: Double,
        endSeconds: Double,
        probabilities: [Float],
        flags: TechnicalFlags = TechnicalFlags(),
        heartRate: HeartRateReading? = nil
    )
    /// A window was not classified because of these technical faults; the heart rate as it completed.
    case faulty(
        stream: String,
        startSeconds: Double,
        endSeconds: Double,
        flags: TechnicalFlags,
        heartRate: HeartRateReading? = nil
    )
    /// The stream closed, after its last window.
    case ended(stream: String, StreamEnding)
    /// A clinician acknowledged an alarm (class code, heart-rate condition, or `stream-ended-unexpectedly`).
    case acknowledge(stream: String, code: String)
    /// New rules after a reload.
    case reload(AlarmRules)
}

/// How a stream ended, as its producer's connection told.
public enum StreamEnding: Sendable, Equatable {
    /// The producer closed the stream at a frame boundary.
    case expected
    /// The stream broke off: a protocol error, a reset connection, the service stopping.
    case unexpected
    /// Nothing arrived for the stall timeout and the stream was closed.
    case stalled
}
