import Stream

/// Produces one stream's header and frames, for the producer tools.
protocol SampleSource {
    /// The stream's header.
    var header: StreamHeader { get }
    /// Appends the next frame of at most `maxSamples` instants to `bytes`.
    ///
    /// - Returns: instants appended; 0 when the stream is over.
    mutating func appendFrame(maxSamples: Int, to bytes: inout [UInt8]) -> Int
}

/// Sends a ``SampleSource`` to a ``ProtocolOutput`` at a ``Pace``.
enum StreamProducer {
    /// Bytes gathered before a write when not pacing.
    static let unpacedWriteBytes = 64 * 1024

    /// Sends the header, then frames until the source ends or `maxSeconds` of stream time are sent.
    ///
    /// In real time, a frame covers 20 ms and leaves when its last sample would have been taken, as a device
    /// sends; unpaced, frames of 250 samples are sent as fast as the reader takes them.
    static func run(
        source: inout some SampleSource,
        pace: Pace,
        output: some ProtocolOutput,
        maxSeconds: Double? = nil
    ) async throws {
        let rate = source.header.sampleRateHz
        let limit = maxSeconds.map { Int(($0 * Double(rate)).rounded()) }
        let frameSamples: Int
        switch pace {
        case .realTime: frameSamples = max(1, rate / 50)
        case .unlimited: frameSamples = 250
        }
        try await output.write(Array(source.header.jsonLine.utf8))
        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0
        var pending: [UInt8] = []
        while limit.map({ sent < $0 }) ?? true {
            let wanted = min(frameSamples, limit.map { $0 - sent } ?? frameSamples)
            let appended = source.appendFrame(maxSamples: wanted, to: &pending)
            guard appended > 0 else { break }
            sent += appended
            switch pace {
            case .realTime(let factor):
                let due = start.advanced(by: .seconds(Double(sent) / Double(rate) / factor))
                try await clock.sleep(until: due)
                try await output.write(pending)
                pending.removeAll(keepingCapacity: true)
            case .unlimited:
                if pending.count >= unpacedWriteBytes {
                    try await output.write(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        if !pending.isEmpty { try await output.write(pending) }
    }
}

/// A WFDB record as a stream, optionally repeated forever; the sample index keeps counting across repeats.
struct RecordSource: SampleSource {
    let header: StreamHeader
    private let record: WFDBRecord
    private let loops: Bool
    private var instant = 0
    private var streamIndex: UInt32 = 0

    /// - Throws: ``StreamError/badRecord(path:reason:)`` when the record cannot be sent (see
    ///   ``WFDBRecord/streamHeader(streamID:start:)``) or is empty.
    init(record: WFDBRecord, streamID: String, loops: Bool) throws(StreamError) {
        guard record.sampleCount > 0 else { throw .badRecord(path: record.header.recordName, reason: "no samples") }
        header = try record.streamHeader(streamID: streamID)
        self.record = record
        self.loops = loops
    }

    mutating func appendFrame(maxSamples: Int, to bytes: inout [UInt8]) -> Int {
        if instant == record.sampleCount {
            guard loops else { return 0 }
            instant = 0
        }
        let count = min(maxSamples, record.sampleCount - instant)
        record.appendFrame(instants: instant..<(instant + count), firstSampleIndex: streamIndex, to: &bytes)
        instant += count
        streamIndex &+= UInt32(count)
        return count
    }
}
