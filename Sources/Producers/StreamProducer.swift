import Stream

/// Produces one stream's header and frames, for the producer tools.
public protocol SampleSource {
    /// The stream's header.
    var header: StreamHeader { get }
    /// Appends the next frame of at most `maxSamples` instants to `bytes`.
    ///
    /// - Returns: instants appended; 0 when the stream is over.
    mutating func appendFrame(maxSamples: Int, to bytes: inout [UInt8]) -> Int
}

/// Sends a ``SampleSource`` to a ``ProtocolOutput`` at a ``Pace``.
public enum StreamProducer {
    /// Bytes gathered before a write when not pacing.
    static let unpacedWriteBytes = 64 * 1024
    /// A real-time frame's default span: a bedside device's typical packet.
    public static let defaultFrameMilliseconds = 20
    /// The frame spans a producer may be asked for: from one sample upwards to one frame a second.
    public static let frameMillisecondsRange = 1...1000

    /// Sends the header, then frames until the source ends or `maxSeconds` of stream time are sent.
    ///
    /// In real time, a frame covers `frameMilliseconds` of signal (at least one sample) and leaves when its last
    /// sample would have been taken, as a device sends; unpaced, frames of 250 samples are sent as fast as the
    /// reader takes them.
    public static func run(
        source: inout some SampleSource,
        pace: Pace,
        output: some ProtocolOutput,
        maxSeconds: Double? = nil,
        frameMilliseconds: Int = defaultFrameMilliseconds
    ) async throws {
        let rate = source.header.sampleRateHz
        let limit = maxSeconds.map { Int(($0 * Double(rate)).rounded()) }
        let frameSamples: Int
        switch pace {
        case .realTime: frameSamples = max(1, rate * frameMilliseconds / 1000)
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

    /// Sends each source as one stream: to standard output, or with `socketPath` as concurrent connections to
    /// the daemon's ingest socket, each checked for the daemon's refusal.
    ///
    /// - Precondition: without `socketPath`, exactly one source (standard output carries one stream).
    /// - Throws: The first source's failure: a write error, or ``ProtocolOutputError`` naming the daemon's answer.
    public static func deliver<Source: SampleSource & Sendable>(
        _ sources: [Source],
        pace: Pace,
        socketPath: String?,
        maxSeconds: Double? = nil,
        frameMilliseconds: Int = defaultFrameMilliseconds
    ) async throws {
        guard let socketPath else {
            precondition(sources.count == 1, "standard output carries one stream")
            var source = sources[0]
            try await run(
                source: &source, pace: pace, output: StandardOutput(), maxSeconds: maxSeconds,
                frameMilliseconds: frameMilliseconds)
            return
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for source in sources {
                group.addTask {
                    var source = source
                    let (reply, error) = try await SocketOutput.withConnection(socketPath: socketPath) { output in
                        try await run(
                            source: &source, pace: pace, output: output, maxSeconds: maxSeconds,
                            frameMilliseconds: frameMilliseconds)
                    }
                    try ProducerReport.check(reply: reply, error: error, streamID: source.header.streamID)
                }
            }
            try await group.waitForAll()
        }
    }
}

/// A WFDB record as a stream, optionally repeated forever; the sample index keeps counting across repeats.
public struct RecordSource: SampleSource, Sendable {
    /// The stream's header, made from the record's.
    public let header: StreamHeader
    private let record: WFDBRecord
    private let loops: Bool
    private var instant = 0
    private var streamIndex: UInt32 = 0

    /// The streams of `ecg-monitor replay`: every record `parallel` times, named `streamID` (default: the
    /// record's name), suffixed `-1`, `-2` … when there are several.
    ///
    /// - Throws: ``StreamError`` for a record that cannot be read or sent.
    public static func streams(
        recordPaths: [String],
        streamID: String?,
        parallel: Int,
        loops: Bool,
        live: Bool = false
    ) throws(StreamError) -> [RecordSource] {
        var sources: [RecordSource] = []
        let several = recordPaths.count * parallel > 1
        for path in recordPaths {
            let record = try WFDBRecord.read(path: path)
            for _ in 0..<parallel {
                let base = streamID ?? record.header.recordName
                let id = several ? "\(base)-\(sources.count + 1)" : base
                sources.append(try RecordSource(record: record, streamID: id, loops: loops, live: live))
            }
        }
        return sources
    }

    /// A record's stream: announced as recorded (the daemon reads it no faster than it classifies it, losing
    /// nothing) unless `live`, when it poses as a patient's device (newest window wins under overload).
    ///
    /// - Throws: ``StreamError/badRecord(path:reason:)`` when the record cannot be sent (see
    ///   ``WFDBRecord/streamHeader(streamID:start:)``) or is empty.
    public init(record: WFDBRecord, streamID: String, loops: Bool, live: Bool = false) throws(StreamError) {
        guard record.sampleCount > 0 else { throw .badRecord(path: record.header.recordName, reason: "no samples") }
        var header = try record.streamHeader(streamID: streamID)
        header.isRecorded = !live
        self.header = header
        self.record = record
        self.loops = loops
    }

    /// Appends the next frame; see ``SampleSource/appendFrame(maxSamples:to:)``.
    public mutating func appendFrame(maxSamples: Int, to bytes: inout [UInt8]) -> Int {
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
