/// Why a producer could not be set up.
public enum ProducerError: Error, Equatable, CustomStringConvertible {
    /// A `--stress` specification that cannot be read.
    case badStress(String, reason: String)

    public var description: String {
        switch self {
        case .badStress(let text, let reason): "bad stress '\(text)': \(reason)"
        }
    }
}
