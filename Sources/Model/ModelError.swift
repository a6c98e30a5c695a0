/// Why a model file could not be loaded or run.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The file ended before a field it announced was complete.
    case truncated(context: String)

    public var description: String {
        switch self {
        case .truncated(let context):
            "model file is truncated: \(context)"
        }
    }
}
