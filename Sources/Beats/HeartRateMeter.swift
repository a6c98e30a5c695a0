/// The displayed heart rate of one stream from its recent RR intervals, and the time since its last beat.
///
/// Averaging rule (IEC 60601-2-27 leaves the method to the manufacturer and asks for it to be disclosed):
/// the rate is 60 / the mean of the recent RR intervals, where the recent intervals are those between the last
/// up to 9 beats that ended within the last 8 s, less those shorter than 0.55 or longer than 1.75 times their
/// median (a missed beat doubles an interval, an extra one splits it); at least 2 intervals must remain, or no
/// rate is shown. The mean, not the median, follows an irregular rhythm such as atrial fibrillation without
/// bias; the 8 s window lets a step from 80 to 40 bpm settle in about 8 s and one from 80 to 120 bpm in about
/// 4 s. Call ``reading(atSampleIndex:)`` at least once a second.
///
/// While the signal is unusable (lead off, noise; the caller says so with ``recordUnusableSignal(atSampleIndex:)``)
/// and for `unusableHoldSeconds` after, there is no rate and no asystole; afterwards intervals count only from
/// beats after the signal came back. Asystole is ``HeartRateReading/secondsSinceLastBeat`` reaching
/// `asystoleSeconds` (4 s) on a usable signal, once the stream has had a rhythm: asystole is the loss of beats the
/// detector had locked on to (at least `minIntervals` + 1 beats in a row at some point of the stream, kept across
/// unusable stretches, as the detector keeps what it learned). A detector that never locked on has not learned
/// the QRS complexes yet, and its silence is no evidence: on PTB-XL fold 10, three 10 s records of 2,198 gave it
/// two beats each and would have raised a false asystole. A beat reported late (search-back) can end it.
///
/// The reading also measures how irregular the rhythm is (``HeartRateReading/irregularity``): the median of the
/// absolute differences between successive recent intervals (the same up to 8 within 8 s, none left out) over
/// their median. Atrial fibrillation's "irregularly irregular" intervals differ from one to the next by 10–30%
/// of the interval; sinus rhythm with its respiratory variation by a few percent; an isolated ectopic beat
/// changes two differences of seven, which the median passes over.
///
/// Memory is fixed: the last beats in a ring; readings allocate nothing.
public struct HeartRateMeter: Sendable {
    /// The rule's constants.
    public struct Configuration: Sendable, Equatable {
        /// Most RR intervals averaged.
        public var maxIntervals = 8
        /// Only intervals ending within this many seconds count.
        public var windowSeconds = 8.0
        /// Fewest intervals that give a rate.
        public var minIntervals = 2
        /// Intervals below this fraction of the median are left out.
        public var shortOutlierRatio = 0.55
        /// Intervals above this multiple of the median are left out.
        public var longOutlierRatio = 1.75
        /// Seconds without a beat on a usable signal that make asystole.
        public var asystoleSeconds = 4.0
        /// Seconds after the last unusable sample during which nothing is shown.
        public var unusableHoldSeconds = 1.0

        /// The defaults.
        public init() {}
    }

    /// Input rate, Hz.
    public let sampleRateHz: Double
    /// The constants in use.
    public let configuration: Configuration
    /// Sample indices of the last `maxIntervals + 1` beats, oldest overwritten first.
    private var beats: [Int]
    private var beatCount = 0
    /// The last sample marked unusable, or nil if none was.
    private var lastUnusable: Int?
    /// The stream had a rhythm: enough beats in a row for a rate, at some point.
    private var hadRhythm = false

    /// Creates a meter.
    ///
    /// - Parameters:
    ///   - sampleRateHz: the rate of the sample indices given.
    ///   - configuration: the constants; `maxIntervals` and `minIntervals` at least 1.
    public init(sampleRateHz: Double, configuration: Configuration = Configuration()) {
        precondition(sampleRateHz > 0 && configuration.maxIntervals >= 1 && configuration.minIntervals >= 1)
        self.sampleRateHz = sampleRateHz
        self.configuration = configuration
        beats = [Int](repeating: 0, count: configuration.maxIntervals + 1)
    }

    /// Records a beat at `sampleIndex` (a ``DetectedBeat/sampleIndex``); beats must come in time order, and one
    /// not after the previous is ignored.
    public mutating func recordBeat(atSampleIndex sampleIndex: Int) {
        if beatCount > 0, sampleIndex <= beats[(beatCount - 1) % beats.count] { return }
        if let lastUnusable, sampleIndex <= lastUnusable { return }
        beats[beatCount % beats.count] = sampleIndex
        beatCount += 1
        hadRhythm = hadRhythm || beatCount > configuration.minIntervals
    }

    /// Marks the signal unusable at `sampleIndex` (lead off, noise): the beats so far are forgotten.
    public mutating func recordUnusableSignal(atSampleIndex sampleIndex: Int) {
        lastUnusable = max(lastUnusable ?? sampleIndex, sampleIndex)
        beatCount = 0
    }

    /// The rate, the time since the last beat and the asystole flag at `sampleIndex`.
    ///
    /// - Complexity: O(maxIntervals²), no allocation.
    public func reading(atSampleIndex now: Int) -> HeartRateReading {
        if let lastUnusable, Double(now - lastUnusable) < configuration.unusableHoldSeconds * sampleRateHz {
            return HeartRateReading(beatsPerMinute: nil, secondsSinceLastBeat: nil, asystole: false, intervalsUsed: 0)
        }
        let lastBeat = beatCount > 0 ? beats[(beatCount - 1) % beats.count] : nil
        let reference = max(lastBeat ?? Int.min, lastUnusable.map { $0 + 1 } ?? Int.min)
        let sinceLast = reference == Int.min ? nil : Double(now - reference) / sampleRateHz
        let asystole = hadRhythm && (sinceLast.map { $0 >= configuration.asystoleSeconds } ?? false)
        let (bpm, used, irregularity) = averageRate(now: now)
        return HeartRateReading(
            beatsPerMinute: bpm,
            secondsSinceLastBeat: sinceLast,
            asystole: asystole,
            intervalsUsed: used,
            irregularity: irregularity
        )
    }

    /// The rule's mean rate, how many intervals went into it, and the rhythm's irregularity.
    private func averageRate(now: Int) -> (Double?, Int, Double?) {
        let available = min(beatCount, beats.count) - 1
        guard available >= configuration.minIntervals else { return (nil, 0, nil) }
        let windowSamples = configuration.windowSeconds * sampleRateHz
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * available) { scratch in
            let intervals = UnsafeMutableBufferPointer(rebasing: scratch[0..<available])
            let differences = UnsafeMutableBufferPointer(rebasing: scratch[available...])
            var count = 0
            for back in 0..<available {
                let end = beats[(beatCount - 1 - back) % beats.count]
                guard Double(now - end) <= windowSamples else { break }
                intervals[count] = end - beats[(beatCount - 2 - back) % beats.count]
                if count > 0 { differences[count - 1] = abs(intervals[count] - intervals[count - 1]) }
                count += 1
            }
            guard count >= configuration.minIntervals else { return (nil, 0, nil) }
            let median = Self.median(of: UnsafeMutableBufferPointer(rebasing: intervals[0..<count]))
            let irregularity =
                count > Self.irregularityMinDifferences
                ? Self.median(of: UnsafeMutableBufferPointer(rebasing: differences[0..<(count - 1)])) / median : nil
            var total = 0
            var used = 0
            for interval in intervals[0..<count] {
                let ratio = Double(interval) / median
                guard ratio >= configuration.shortOutlierRatio, ratio <= configuration.longOutlierRatio else {
                    continue
                }
                total += interval
                used += 1
            }
            guard used >= configuration.minIntervals else { return (nil, 0, nil) }
            return (60 * sampleRateHz * Double(used) / Double(total), used, irregularity)
        }
    }

    /// Fewest successive differences (so one more interval) that give an irregularity.
    static let irregularityMinDifferences = 3

    /// The median of `values`, which it sorts in place (insertion sort: a handful of values).
    private static func median(of values: UnsafeMutableBufferPointer<Int>) -> Double {
        for i in 1..<max(values.count, 1) {
            var j = i
            while j > 0, values[j - 1] > values[j] {
                values.swapAt(j - 1, j)
                j -= 1
            }
        }
        let middle = values.count / 2
        return values.count % 2 == 1 ? Double(values[middle]) : Double(values[middle - 1] + values[middle]) / 2
    }
}

/// What a ``HeartRateMeter`` shows at one instant.
public struct HeartRateReading: Sendable, Equatable {
    /// The averaged rate, beats per minute; nil when too few recent intervals or the signal is unusable.
    public var beatsPerMinute: Double?
    /// Seconds since the last beat, or since the signal became usable if no beat came after; nil before either
    /// or while unusable.
    public var secondsSinceLastBeat: Double?
    /// No beat for `asystoleSeconds` on a usable signal.
    public var asystole: Bool
    /// RR intervals averaged into the rate.
    public var intervalsUsed: Int
    /// The median absolute difference of successive recent RR intervals over their median (see
    /// ``HeartRateMeter``); nil with fewer than 4 intervals or without a rate.
    public var irregularity: Double?

    /// Creates a reading.
    public init(
        beatsPerMinute: Double?,
        secondsSinceLastBeat: Double?,
        asystole: Bool,
        intervalsUsed: Int,
        irregularity: Double? = nil
    ) {
        self.beatsPerMinute = beatsPerMinute
        self.secondsSinceLastBeat = secondsSinceLastBeat
        self.asystole = asystole
        self.intervalsUsed = intervalsUsed
        self.irregularity = irregularity
    }
}
