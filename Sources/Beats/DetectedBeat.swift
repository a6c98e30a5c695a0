/// One QRS complex found by ``QRSDetector``.
public struct DetectedBeat: Sendable, Equatable {
    /// The QRS's fiducial point, as a sample index of the input: the steepest slope of the complex, moved back
    /// by the filters' group delay, so within a few tens of milliseconds of the R peak.
    public var sampleIndex: Int
    /// The input sample whose processing produced the beat: `sampleIndex` plus the detection delay.
    public var emittedAtSampleIndex: Int
    /// Whether the beat was found by searching back with a lower threshold after a long pause; such beats
    /// come later than ``QRSDetector/maxDelaySamples`` (up to 1.66 mean RR intervals after the previous beat).
    public var foundBySearchBack: Bool

    /// Creates a beat.
    public init(sampleIndex: Int, emittedAtSampleIndex: Int, foundBySearchBack: Bool) {
        self.sampleIndex = sampleIndex
        self.emittedAtSampleIndex = emittedAtSampleIndex
        self.foundBySearchBack = foundBySearchBack
    }
}
