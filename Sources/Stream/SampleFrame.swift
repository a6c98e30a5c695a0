/// A block of consecutive multi-lead samples: its wire layout, its encoder, and the decoded view.
///
/// Binary frame layout (formats `i16le` and `f32le`; all integers little-endian):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 2 | sync bytes `0xEC 0x47` |
/// | 2 | 1 | lead count L, equal to the header's |
/// | 3 | 1 | format code: 1 = `i16le`, 2 = `f32le`, equal to the header's |
/// | 4 | 2 | samples per lead n, 1 … the receiver's limit (default 1000) |
/// | 6 | 4 | index of the frame's first sample in the stream (counted per lead, wrapping at 2³²) |
/// | 10 | n·L·b | samples interleaved by time: s₀(lead 0) … s₀(lead L−1), s₁(lead 0) …; b = 2 or 4 bytes |
/// | 10 + n·L·b | 4 | CRC-32 (zlib's) of every byte before it |
///
/// The sync bytes and the checksum let a receiver skip garbage and find the next frame; the sample index
/// lets it notice a lost frame. In CSV streams a frame is one text line: one sampling instant.
///
/// A decoded frame is a view into the decoder's buffers.
///
/// - Important: ``millivolts`` and ``railed`` are valid only until the decoder that produced the frame is
///   called again.
public struct SampleFrame {
    /// The two bytes every binary frame starts with.
    public static let syncBytes: [UInt8] = [0xEC, 0x47]
    /// Bytes before the samples.
    public static let headerByteCount = 10
    /// Bytes after the samples (the checksum).
    public static let trailerByteCount = 4
    /// Largest number of samples per lead a frame can announce.
    public static let maxSamplesPerFrame = Int(UInt16.max)

    /// Index of the first sample in the stream, as the producer numbered it; `nil` for CSV lines.
    public let firstSampleIndex: UInt32?
    /// Samples per lead in this frame.
    public let sampleCount: Int
    /// Leads per sampling instant, as in the header.
    public let leadCount: Int
    /// The samples in millivolts, `[sampleCount][leadCount]` row-major, in the header's lead order.
    /// Non-finite values are passed through; the pipeline replaces and counts them.
    public let millivolts: UnsafeBufferPointer<Float>
    /// `true` where an `i16le` sample sat at a rail (−32768 or 32767); same layout as ``millivolts``.
    public let railed: UnsafeBufferPointer<Bool>

    /// Total size in bytes of a binary frame.
    public static func byteCount(leadCount: Int, sampleCount: Int, bytesPerSample: Int) -> Int {
        headerByteCount + leadCount * sampleCount * bytesPerSample + trailerByteCount
    }

    // MARK: - Encoding

    /// Appends one `i16le` frame to `bytes`.
    ///
    /// - Parameters:
    ///   - samples: `[sampleCount][leadCount]` row-major, in the header's lead order.
    ///   - leadCount: leads per sampling instant (1…12).
    ///   - firstSampleIndex: the stream index of the first sample (wraps at 2³²).
    /// - Important: `samples.count` must be a non-zero multiple of `leadCount`, at most 65535 per lead.
    public static func appendInt16Frame(
        _ samples: some Collection<Int16>,
        leadCount: Int,
        firstSampleIndex: UInt32,
        to bytes: inout [UInt8]
    ) {
        appendFrame(
            samples.lazy.map { UInt16(bitPattern: $0) },
            leadCount: leadCount,
            formatCode: 1,
            firstSampleIndex: firstSampleIndex,
            to: &bytes
        )
    }

    /// Appends one `f32le` frame to `bytes`; as ``appendInt16Frame(_:leadCount:firstSampleIndex:to:)``, values in mV.
    public static func appendFloat32Frame(
        _ samples: some Collection<Float>,
        leadCount: Int,
        firstSampleIndex: UInt32,
        to bytes: inout [UInt8]
    ) {
        appendFrame(
            samples.lazy.map(\.bitPattern),
            leadCount: leadCount,
            formatCode: 2,
            firstSampleIndex: firstSampleIndex,
            to: &bytes
        )
    }

    /// Appends CSV lines, one per sampling instant, values in mV with `decimals` digits after the point.
    public static func appendCSVLines(
        _ samples: some Collection<Float>,
        leadCount: Int,
        decimals: Int = 4,
        to bytes: inout [UInt8]
    ) {
        var column = 0
        for sample in samples {
            if column > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: decimalText(sample, decimals: decimals).utf8)
            column += 1
            if column == leadCount {
                bytes.append(UInt8(ascii: "\n"))
                column = 0
            }
        }
    }

    /// Header, little-endian sample bit patterns, checksum.
    private static func appendFrame<Bits: FixedWidthInteger>(
        _ samples: some Collection<Bits>,
        leadCount: Int,
        formatCode: UInt8,
        firstSampleIndex: UInt32,
        to bytes: inout [UInt8]
    ) {
        precondition((1...StandardLead.allCases.count).contains(leadCount), "1 to 12 leads per frame")
        precondition(!samples.isEmpty && samples.count % leadCount == 0, "samples must fill whole instants")
        precondition(samples.count / leadCount <= maxSamplesPerFrame, "at most 65535 samples per lead in a frame")
        let start = bytes.count
        bytes.append(contentsOf: syncBytes)
        bytes.append(UInt8(leadCount))
        bytes.append(formatCode)
        appendLittleEndian(UInt16(samples.count / leadCount), to: &bytes)
        appendLittleEndian(firstSampleIndex, to: &bytes)
        for sample in samples {
            appendLittleEndian(sample, to: &bytes)
        }
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        appendLittleEndian(crc, to: &bytes)
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Fixed-point text without an exponent, so every CSV reader accepts it.
    static func decimalText(_ value: Float, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (Double(value) * scale).rounded()
        guard abs(scaled) < 9e18 else { return String(value) }
        let negative = scaled < 0
        let magnitude = UInt64(abs(scaled))
        let unit = UInt64(scale)
        var text = negative ? "-" : ""
        text += String(magnitude / unit)
        if decimals > 0 {
            let fraction = String(magnitude % unit)
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text
    }
}
