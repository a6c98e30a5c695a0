/// Writes beat annotations in WFDB's MIT format (the `.atr`/`.qrs` files read by `rdann` and `wfdb.rdann`).
///
/// Each annotation is a 16-bit little-endian word: the annotation code in the top 6 bits and the samples since
/// the previous annotation (0…1023) in the low 10. A longer gap is written as a SKIP word (code 59, interval 0)
/// followed by the gap as a 32-bit integer in PDP-11 order (high 16-bit word first, each word little-endian),
/// then the annotation word with interval 0. The file ends with a zero word.
public struct WFDBAnnotationWriter: Sendable {
    /// Code of a normal beat, `N`, in WFDB's table.
    public static let normalBeatCode: UInt16 = 1
    static let skipCode: UInt16 = 59
    static let maxWordInterval = 1023

    /// The encoded annotations so far, without the end-of-file word.
    private var body: [UInt8] = []
    private var previousSampleIndex = 0

    /// Creates an empty annotation file.
    public init() {}

    /// Appends a normal beat (`N`) at `sampleIndex`.
    ///
    /// - Throws: ``BeatsError/annotationOutOfOrder(sampleIndex:previousSampleIndex:)`` when it comes before
    ///   the previous annotation, ``BeatsError/annotationTooLate(sampleIndex:)`` beyond 2³¹ − 1.
    public mutating func appendBeat(atSampleIndex sampleIndex: Int) throws(BeatsError) {
        guard sampleIndex >= previousSampleIndex else {
            throw .annotationOutOfOrder(sampleIndex: sampleIndex, previousSampleIndex: previousSampleIndex)
        }
        guard sampleIndex <= Int(Int32.max) else { throw .annotationTooLate(sampleIndex: sampleIndex) }
        var interval = sampleIndex - previousSampleIndex
        if interval > Self.maxWordInterval {
            appendWord(Self.skipCode << 10)
            appendWord(UInt16(truncatingIfNeeded: interval >> 16))
            appendWord(UInt16(truncatingIfNeeded: interval))
            interval = 0
        }
        appendWord(Self.normalBeatCode << 10 | UInt16(interval))
        previousSampleIndex = sampleIndex
    }

    /// The complete file: every annotation and the end-of-file word.
    public var bytes: [UInt8] { body + [0, 0] }

    private mutating func appendWord(_ word: UInt16) {
        body.append(UInt8(truncatingIfNeeded: word))
        body.append(UInt8(truncatingIfNeeded: word >> 8))
    }
}
