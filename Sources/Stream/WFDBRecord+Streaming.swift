extension WFDBRecord {
    /// The signals that are standard ECG leads, in header order, each lead once; other signals (Frank leads,
    /// respiration, …) are left out because the protocol carries only the 12 standard leads.
    public var standardLeadSignals: [(signal: Int, lead: StandardLead)] {
        var selected: [(signal: Int, lead: StandardLead)] = []
        for (index, signal) in header.signals.enumerated() {
            guard let lead = StandardLead(name: signal.description), !selected.contains(where: { $0.lead == lead })
            else {
                continue
            }
            selected.append((index, lead))
        }
        return selected
    }

    /// A protocol header that sends the record's standard leads as `i16le` with their own gains and baselines.
    ///
    /// - Throws: ``StreamError/badRecord(path:reason:)`` when the record has no standard lead or a rate the
    ///   protocol does not carry (an integer 100…1000 Hz).
    public func streamHeader(streamID: String, start: String? = nil) throws(StreamError) -> StreamHeader {
        let selected = standardLeadSignals
        guard !selected.isEmpty else {
            throw .badRecord(path: header.recordName, reason: "no signal is named like a standard ECG lead")
        }
        let rate = header.sampleRateHz
        let range = StreamHeader.sampleRateRangeHz
        // Compared as a Double first: a header may give any finite rate, and converting 1e30 to Int traps.
        guard rate == rate.rounded(), rate >= Double(range.lowerBound), rate <= Double(range.upperBound) else {
            throw .badRecord(
                path: header.recordName,
                reason: "sampling frequency \(rate) Hz is not an integer in 100...1000"
            )
        }
        return try StreamHeader(
            streamID: streamID,
            sampleRateHz: Int(rate),
            leads: selected.map(\.lead),
            format: .int16(
                gain: selected.map { header.signals[$0.signal].gainPerMillivolt },
                baseline: selected.map { header.signals[$0.signal].baseline }
            ),
            start: start
        )
    }

    /// Appends one `i16le` frame holding instants `range` of the standard leads (as in ``streamHeader(streamID:start:)``).
    ///
    /// - Parameters:
    ///   - range: instants of the record, non-empty, at most 65535.
    ///   - firstSampleIndex: the stream index of `range.lowerBound` (differs from it when a replay loops).
    ///   - bytes: the output.
    public func appendFrame(instants range: Range<Int>, firstSampleIndex: UInt32, to bytes: inout [UInt8]) {
        let selected = standardLeadSignals
        var interleaved: [Int16] = []
        interleaved.reserveCapacity(range.count * selected.count)
        for instant in range {
            for (signal, _) in selected {
                interleaved.append(samples[signal][instant])
            }
        }
        SampleFrame.appendInt16Frame(
            interleaved,
            leadCount: selected.count,
            firstSampleIndex: firstSampleIndex,
            to: &bytes
        )
    }
}
