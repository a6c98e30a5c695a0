extension QRSDetector {
    /// The detector's tunable constants, in seconds and ratios so that one configuration serves every rate.
    ///
    /// The defaults were tuned on the MIT-BIH Arrhythmia Database (BENCHMARKS.md) and are what the daemon uses.
    public struct Configuration: Sendable, Equatable {
        /// Lower −3 dB edge of the QRS band-pass, Hz: removes baseline wander and most of the P and T waves.
        public var highPassHz = 5.0
        /// Upper −3 dB edge of the QRS band-pass, Hz: removes muscle noise and mains hum above the QRS band.
        public var lowPassHz = 15.0
        /// Length of the moving-window integration of the squared slope, seconds: about the widest QRS.
        public var integrationSeconds = 0.15
        /// How long an integrated peak must stay the largest value before it is judged, seconds.
        public var peakConfirmationSeconds = 0.1
        /// No second beat within this time of a beat, seconds: the heart cannot depolarise again sooner.
        public var refractorySeconds = 0.2
        /// A candidate this close to the previous beat must show a steep enough slope, seconds.
        public var tWaveWindowSeconds = 0.36
        /// A candidate inside the T-wave window whose steepest slope is below this fraction of the previous
        /// beat's is a T wave.
        public var tWaveSlopeRatio: Float = 0.5
        /// Detection threshold as a fraction of the way from the noise peak level to the QRS peak level.
        public var thresholdFraction: Float = 0.3
        /// A candidate sooner than this fraction of the mean RR interval after the previous beat is premature.
        public var prematureRRFraction = 0.5
        /// A premature candidate needs this multiple of the detection threshold to be detected directly.
        public var prematureThresholdFactor: Float = 1.5
        /// A candidate sooner than this fraction of the mean RR interval after the previous beat must be seen by
        /// a second lead (``secondLeadEnergyFraction``) to be detected directly.
        public var secondLeadRRFraction = 0.85
        /// The slope energy, as a fraction of that lead's running QRS slope energy, that the second most
        /// responsive usable lead must reach near an early candidate: 0.015 of the energy is about an eighth of
        /// the slope. A depolarisation projects onto every lead that is not at right angles to it, while an
        /// electrode's artefact shows in the leads that use it; with a single usable lead the test is skipped.
        public var secondLeadEnergyFraction: Float = 0.015
        /// Search-back threshold as a fraction of the detection threshold.
        public var searchBackFraction: Float = 0.5
        /// Search back for a missed beat when no beat came for this many mean RR intervals.
        public var searchBackRRFactor = 1.66
        /// Weight of a new peak in the running QRS and noise peak levels (an exponential average).
        public var peakLevelWeight: Float = 0.125
        /// Time constant of each lead's running mean slope energy, which weighs the leads, seconds.
        public var leadScaleSeconds = 2.0
        /// Seconds of signal that set each lead's first normalisation (its largest slope energy) and the first
        /// QRS and noise peak levels; no beat is reported before they end.
        public var learningSeconds = 2.0
        /// The smallest steepest slope of a QRS complex in the band-passed signal of some lead, mV/s: a complex
        /// below it is noise however it compares with the adaptive threshold, which keeps a flat line in
        /// asystole from yielding beats. 3 mV/s is the band-passed slope of a QRS of about 0.1 mV.
        public var minQRSSlopeMillivoltsPerSecond = 3.0
        /// After an invalid (NaN or infinite) sample a lead stays out of the detection for this long, seconds,
        /// while its filters settle.
        public var invalidLeadHoldSeconds = 1.0

        /// The defaults.
        public init() {}
    }
}
