import FoundationEssentials

/// Why a model file could not be loaded or run.
///
/// Every case names what was wrong (field, tensor, node or metadata key), so that the message alone tells the
/// person who exported the model what to fix.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file was read but is not a model the engine can run; `problem` says why.
    indirect case badFile(path: String, problem: ModelError)
    /// The file ended before a field it announced was complete.
    case truncated(context: String)
    /// The bytes are not a well-formed protobuf message of the expected kind.
    case malformed(context: String)
    /// A tensor's data lives in another file; only self-contained models are read.
    case externalData(tensor: String)
    /// A tensor has an element type the engine does not read (ONNX `TensorProto.DataType` code).
    case unsupportedDataType(tensor: String, dataType: Int)
    /// A graph node uses an operator the engine does not implement; the model is refused rather than approximated.
    case unsupportedOperator(op: String, node: String)
    /// A supported operator is used in a way the engine cannot compute exactly (attribute value, position).
    case unsupportedUsage(node: String, reason: String)
    /// A node reads a tensor that no initializer, constant, input or earlier node provides.
    case missingTensor(name: String, node: String)
    /// A tensor's shape differs from what the graph around it requires.
    case shapeMismatch(tensor: String, expected: String, found: String)
    /// A weight tensor holds NaN or infinity.
    case nonFiniteWeight(tensor: String, index: Int)
    /// The graph's inputs or outputs are not `input [batch, leads, time]` → `logits [batch, classes]`.
    case badSignature(reason: String)
    /// An `ecg.*` metadata value is missing, not valid JSON, or inconsistent with the graph.
    case badMetadata(key: String, reason: String)
    /// A window given to the model does not fit it (wrong length, batch or time beyond the workspace).
    case badInput(reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read model file \(path): \(reason)"
        case .badFile(let path, let problem):
            "\(path): \(problem)"
        case .truncated(let context):
            "model file is truncated: \(context)"
        case .malformed(let context):
            "model file is not a valid ONNX protobuf: \(context)"
        case .externalData(let tensor):
            "tensor \(tensor) keeps its data in an external file; save the model with all tensors inside it"
        case .unsupportedDataType(let tensor, let dataType):
            "tensor \(tensor) has ONNX data type \(dataType); only float32 (1) and int64 (7) are read"
        case .unsupportedOperator(let op, let node):
            "unsupported operator \(op) in node \(node)"
        case .unsupportedUsage(let node, let reason):
            "node \(node) cannot be run exactly: \(reason)"
        case .missingTensor(let name, let node):
            "node \(node) reads tensor \(name), which nothing in the model provides"
        case .shapeMismatch(let tensor, let expected, let found):
            "tensor \(tensor) has shape \(found), expected \(expected)"
        case .nonFiniteWeight(let tensor, let index):
            "tensor \(tensor) holds a NaN or infinite value at element \(index)"
        case .badSignature(let reason):
            "model inputs/outputs: \(reason)"
        case .badMetadata(let key, let reason):
            "metadata \(key): \(reason)"
        case .badInput(let reason):
            "input does not fit the model: \(reason)"
        }
    }
}

extension ModelError {
    /// Reads the model file at `path` and builds a model from its bytes with `load`.
    ///
    /// - Throws: ``unreadable(path:reason:)`` if the file cannot be read; ``badFile(path:problem:)`` wrapping what
    ///   `load` throws.
    static func loading<Loaded>(
        _ path: String,
        _ load: ([UInt8]) throws(ModelError) -> Loaded
    ) throws(ModelError) -> Loaded {
        let data: Data
        do {
            data = try Data(contentsOf: URL(filePath: path))
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        do {
            return try load([UInt8](data))
        } catch {
            throw .badFile(path: path, problem: error)
        }
    }
}
