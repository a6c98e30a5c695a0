/// Keeps the last window of a stream at the model's rate and says when a (length, hop) window is complete.
///
/// Two rings advance together: the preprocessed signal (what the model sees) and per-sample fault flags. The
/// first window ends at sample `windowSamples`, each later one `hopSamples` further. The checks of the raw signal
/// (flat line, noise, wander) are the ``SignalQualityMeter``'s, from its per-block summaries. Allocates only in
/// `init`.
final class WindowAssembler {
    let windowSamples: Int
    let hopSamples: Int
    let model: LeadRingBuffer<Float>
    let flags: LeadRingBuffer<UInt8>

    init(leadCount: Int, windowSamples: Int, hopSamples: Int) {
        precondition(windowSamples >= 1 && hopSamples >= 1, "window and hop must be positive")
        self.windowSamples = windowSamples
        self.hopSamples = hopSamples
        model = LeadRingBuffer(leadCount: leadCount, minimumCapacity: windowSamples, initial: 0)
        flags = LeadRingBuffer(leadCount: leadCount, minimumCapacity: windowSamples, initial: 0)
    }

    /// Samples appended so far.
    var sampleCount: Int { model.appendedCount }

    /// Appends one instant of both rings.
    ///
    /// - Returns: whether a window ends with this instant.
    /// - Complexity: O(leads).
    func append(model modelValues: UnsafePointer<Float>, flags sampleFlags: UnsafePointer<UInt8>) -> Bool {
        model.append(modelValues)
        flags.append(sampleFlags)
        let count = model.appendedCount
        return count >= windowSamples && (count - windowSamples) % hopSamples == 0
    }

    /// The checks of the fault flags over the last `windowSamples` instants: saturated, non-finite and missing
    /// samples.
    ///
    /// - Complexity: O(leads · windowSamples).
    func quality() -> SignalQuality {
        var quality = SignalQuality.clean
        var missingPerLead = 0
        flags.forEachLeadRun(last: windowSamples) { lead, first, second in
            var (union, nonFinite, missing) = Self.tally(first)
            let tail = Self.tally(second)
            union |= tail.union
            nonFinite += tail.nonFinite
            missing += tail.missing
            if union & SampleFlags.saturated != 0 { quality.saturatedLeads.insert(LeadSet(leadIndex: lead)) }
            if nonFinite > 0 { quality.nonFiniteLeads.insert(LeadSet(leadIndex: lead)) }
            quality.nonFiniteSampleCount += nonFinite
            // Gaps are filled for every lead at once, so any lead's count is the instant count.
            missingPerLead = max(missingPerLead, missing)
        }
        quality.missingSampleCount = missingPerLead
        return quality
    }

    private static func tally(_ run: UnsafeBufferPointer<UInt8>) -> (union: UInt8, nonFinite: Int, missing: Int) {
        var union: UInt8 = 0
        var nonFinite = 0
        var missing = 0
        for flag in run {
            union |= flag
            if flag & SampleFlags.nonFinite != 0 { nonFinite += 1 }
            if flag & SampleFlags.missing != 0 { missing += 1 }
        }
        return (union, nonFinite, missing)
    }

    // MARK: - Testing

    func testOnly_checkInvariants() {
        model.testOnly_checkInvariants()
        flags.testOnly_checkInvariants()
        precondition(model.appendedCount == flags.appendedCount)
    }
}
