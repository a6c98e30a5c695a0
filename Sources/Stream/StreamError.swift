/// Why a stream was refused or closed.
public enum StreamError: Error, Equatable, CustomStringConvertible {
    /// The first line of the stream is not a valid header.
    case badHeader(reason: String)

    public var description: String {
        switch self {
        case .badHeader(let reason):
            "bad stream header: \(reason)"
        }
    }
}
