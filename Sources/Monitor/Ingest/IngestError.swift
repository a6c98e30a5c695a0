/// Why the ingest service could not start or had to stop.
enum IngestError: Error, Equatable, CustomStringConvertible {
    /// The socket could not be set up (bind, mode).
    case socket(reason: String)
    /// Standard input cannot be read as a stream (closed, or a directory).
    case unsupportedStandardInput(reason: String)
    /// The stream on standard input broke the protocol or could not be read; the process exits non-zero.
    case standardInput(reason: String)

    var description: String {
        switch self {
        case .socket(let reason):
            "ingest socket: \(reason)"
        case .unsupportedStandardInput(let reason):
            "standard input: \(reason)"
        case .standardInput(let reason):
            "stream on standard input: \(reason)"
        }
    }
}
