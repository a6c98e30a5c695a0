/// Why an input file given to `classify` could not be used.
public enum InputError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not a NumPy `.npy` array the command reads.
    case badNpy(path: String, reason: String)
    /// The array's shape does not fit the model.
    case badShape(path: String, shape: [Int], reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .badNpy(let path, let reason): "\(path) is not a readable .npy array: \(reason)"
        case .badShape(let path, let shape, let reason): "\(path) has shape \(shape): \(reason)"
        }
    }
}
