import Stream

/// A change in a stream's life, for logs and the status line; delivered through an `AsyncStream` that keeps the
/// newest events when its consumer falls behind (`bufferingNewest`).
///
/// The alarm side does not learn of stalls and ends from here but through the ``WindowQueue``
/// (``StreamEnding``), where they queue behind the stream's last window: an event here may overtake a
/// window still being classified.
///
/// Every `opened` stream later gets exactly one `ended` or `endedUnexpectedly`; `stalled` comes just before
/// the `endedUnexpectedly` of a stream closed for silence. `refused` concerns a connection that never became
/// a stream (no header, bad header, limits).
enum IngestEvent: Sendable, Equatable {
    /// A header was accepted and the stream is being processed.
    case opened(IngestStreamInfo)
    /// The producer closed the stream at a frame boundary.
    case ended(streamID: String, summary: IngestStreamSummary)
    /// The stream stopped for another reason: end inside a frame, protocol error, connection reset, silence,
    /// or the service stopping.
    case endedUnexpectedly(streamID: String, reason: String, summary: IngestStreamSummary)
    /// No bytes arrived for the idle time; the connection is closed next.
    case stalled(streamID: String, idleSeconds: Double)
    /// A connection was turned away before a stream opened; `streamID` when the header named one.
    case refused(streamID: String?, reason: String)

    /// The event stream the alert side reads and the continuation ``IngestService`` yields into; when the
    /// reader falls behind, the oldest events are dropped first.
    static func makeStream(
        keepingNewest count: Int = 1024
    )
        -> (stream: AsyncStream<IngestEvent>, continuation: AsyncStream<IngestEvent>.Continuation)
    {
        AsyncStream.makeStream(of: IngestEvent.self, bufferingPolicy: .bufferingNewest(count))
    }
}

/// Where a stream comes from.
enum IngestSource: String, Sendable, Equatable {
    case socket
    case standardInput = "stdin"
}

/// What a stream's header announced, and how it is mapped onto the model.
struct IngestStreamInfo: Sendable, Equatable {
    var streamID: String
    var source: IngestSource
    var sampleRateHz: Int
    /// Leads in the order sent.
    var leads: [StandardLead]
    /// Model leads computed from I and II because they are not sent.
    var derivedLeads: [StandardLead]
    /// `i16le`, `f32le` or `csv`.
    var format: String
    /// The header's `start`, unchanged.
    var start: String?
    /// Delay the resampler adds before a sample reaches a window, seconds.
    var latencySeconds: Double
    /// The shard (inference worker) serving the stream.
    var shard: Int
}

/// Counts over a stream's life, reported when it ends.
struct IngestStreamSummary: Sendable, Equatable {
    /// Input instants received (filled gaps included).
    var inputSamples = 0
    /// Windows handed to inference.
    var windows = 0
    /// Bytes skipped as garbage.
    var skippedBytes = 0
    /// Input values that were not finite.
    var nonFiniteValues = 0
    /// Input values at a rail or over the saturation threshold.
    var saturatedValues = 0
    /// Input instants filled in for lost frames.
    var missingSamples = 0
}
