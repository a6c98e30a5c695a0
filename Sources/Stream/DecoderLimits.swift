/// Bounds on what one stream may make the decoder hold, so a hostile or broken producer costs a fixed amount
/// of memory.
public struct DecoderLimits: Sendable, Equatable {
    /// Longest header or CSV line, bytes, newline included. Default 4096.
    public var maxLineBytes: Int
    /// Most samples per lead in one binary frame. Default 1000 (one second at 1000 Hz).
    public var maxFrameSamples: Int
    /// Bytes the decoder buffers per stream: at least one largest frame or line. Default 65536.
    public var bufferBytes: Int
    /// Consecutive bytes that may be skipped while looking for a valid frame before the stream is refused.
    /// Default 65536.
    public var maxGarbageBytes: Int

    /// The defaults above.
    public static let standard = DecoderLimits(
        maxLineBytes: 4096,
        maxFrameSamples: 1000,
        bufferBytes: 65536,
        maxGarbageBytes: 65536
    )

    /// Creates limits without checking them; ``validate()`` checks.
    public init(maxLineBytes: Int, maxFrameSamples: Int, bufferBytes: Int, maxGarbageBytes: Int) {
        self.maxLineBytes = maxLineBytes
        self.maxFrameSamples = maxFrameSamples
        self.bufferBytes = bufferBytes
        self.maxGarbageBytes = maxGarbageBytes
    }

    /// Bytes of the largest binary frame these limits accept (12 leads of 32-bit samples).
    public var largestFrameBytes: Int {
        SampleFrame.byteCount(
            leadCount: StandardLead.allCases.count,
            sampleCount: maxFrameSamples,
            bytesPerSample: 4
        )
    }

    /// Checks that the limits are usable together.
    ///
    /// - Throws: ``StreamError/badConfiguration(reason:)`` naming the limit.
    public func validate() throws(StreamError) {
        guard maxLineBytes >= 256 else {
            throw .badConfiguration(reason: "maxLineBytes \(maxLineBytes) is below 256")
        }
        guard (1...SampleFrame.maxSamplesPerFrame).contains(maxFrameSamples) else {
            throw .badConfiguration(reason: "maxFrameSamples \(maxFrameSamples) is outside 1...65535")
        }
        guard bufferBytes >= maxLineBytes, bufferBytes >= largestFrameBytes else {
            throw .badConfiguration(
                reason: "bufferBytes \(bufferBytes) cannot hold the largest line (\(maxLineBytes) bytes) "
                    + "or frame (\(largestFrameBytes) bytes)"
            )
        }
        guard maxGarbageBytes >= 1 else {
            throw .badConfiguration(reason: "maxGarbageBytes must be at least 1")
        }
    }
}
