/// Why beat output could not be written.
public enum BeatsError: Error, Equatable, CustomStringConvertible {
    /// Annotations must come in time order, at sample 0 or later.
    case annotationOutOfOrder(sampleIndex: Int, previousSampleIndex: Int)
    /// An annotation time does not fit WFDB's 32-bit sample counter.
    case annotationTooLate(sampleIndex: Int)

    /// A one-line explanation naming the offending value.
    public var description: String {
        switch self {
        case .annotationOutOfOrder(let sampleIndex, let previous):
            "annotation at sample \(sampleIndex) comes before the previous one at sample \(previous)"
        case .annotationTooLate(let sampleIndex):
            "annotation at sample \(sampleIndex) is beyond WFDB's 32-bit sample range"
        }
    }
}
