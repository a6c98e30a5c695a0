import Beats

/// Where one window lies in its stream and what state its signal is in.
///
/// Stream time counts samples at the model's rate from the stream's first sample (index 0 at 0 s). The
/// resampler compensates its delay, so these times are times of the signal itself, not of its arrival.
public struct WindowInfo: Sendable, Equatable {
    /// The stream's id, from its header.
    public var streamID: String
    /// Index of the window's first sample, at the model's rate.
    public var startSample: Int64
    /// Samples per lead in the window.
    public var sampleCount: Int
    /// The model's rate, Hz.
    public var sampleRateHz: Int
    /// Technical checks of the window's raw signal.
    public var quality: SignalQuality
    /// The stream's heart rate as the window completed (its beats are detected at the input rate); nil where no
    /// beats are detected.
    public var heartRate: HeartRateReading?

    /// Creates a window description.
    public init(
        streamID: String,
        startSample: Int64,
        sampleCount: Int,
        sampleRateHz: Int,
        quality: SignalQuality,
        heartRate: HeartRateReading? = nil
    ) {
        self.streamID = streamID
        self.startSample = startSample
        self.sampleCount = sampleCount
        self.sampleRateHz = sampleRateHz
        self.quality = quality
        self.heartRate = heartRate
    }

    /// Index one past the window's last sample.
    public var endSample: Int64 { startSample + Int64(sampleCount) }
    /// Stream time of the first sample, seconds.
    public var startSeconds: Double { Double(startSample) / Double(sampleRateHz) }
    /// Stream time just after the last sample, seconds (start + window length).
    public var endSeconds: Double { Double(endSample) / Double(sampleRateHz) }
}

/// A window that has just become complete; valid only inside the callback that receives it.
public struct StreamWindow {
    /// Where the window lies and its signal quality.
    public let info: WindowInfo
    private let assembler: WindowAssembler

    init(info: WindowInfo, assembler: WindowAssembler) {
        self.info = info
        self.assembler = assembler
    }

    /// Copies the preprocessed window into `destination`, with the leads that are off set to zero.
    ///
    /// A lead in ``SignalQuality/maskedLeads`` reads 0 at every sample, the value a standardized lead has on
    /// average, as the model saw masked leads in training; the other leads still carry the window.
    ///
    /// - Parameter destination: `[leads][sampleCount]` row-major, model lead order, model units.
    /// - Complexity: O(leads · samples).
    public func copySamples(into destination: UnsafeMutablePointer<Float>) {
        assembler.model.copyLast(info.sampleCount, into: destination)
        let masked = info.quality.maskedLeads
        guard !masked.isEmpty else { return }
        for lead in 0..<assembler.model.leadCount where masked.contains(leadIndex: lead) {
            (destination + lead * info.sampleCount).update(repeating: 0, count: info.sampleCount)
        }
    }
}
