/// The declared type of a graph input, output or intermediate value; only tensor shapes are kept.
struct ONNXValueInfo: Sendable {
    /// One dimension: a number, a symbolic name (`batch`), or nothing.
    enum Dimension: Sendable, Equatable {
        case fixed(Int)
        case symbolic(String)
        case unknown
    }

    var name = ""
    /// The shape if the type declares one.
    var dims: [Dimension]?
}

/// One operator application in the graph.
struct ONNXNode: Sendable {
    var name = ""
    var opType = ""
    var domain = ""
    var inputs: [String] = []
    var outputs: [String] = []
    var attributes: [String: ONNXAttribute] = [:]

    /// The node's name for messages, falling back to its first output when the exporter left it unnamed.
    var label: String { name.isEmpty ? "\(opType)→\(outputs.first ?? "?")" : name }
}

/// A node attribute; only the fields the supported operators use are kept.
struct ONNXAttribute: Sendable {
    var float: Float?
    var int: Int64?
    var string: String?
    var tensor: ONNXTensor?
    var floats: [Float] = []
    var ints: [Int64] = []
}

/// The computation graph: nodes in topological order, weights, and the declared inputs and outputs.
struct ONNXGraph: Sendable {
    var nodes: [ONNXNode] = []
    var initializers: [String: ONNXTensor] = [:]
    var inputs: [ONNXValueInfo] = []
    var outputs: [ONNXValueInfo] = []
    var valueInfo: [ONNXValueInfo] = []
}

/// The parts of an ONNX `ModelProto` the engine uses.
///
/// Why a hand-written reader: the model is one protobuf message and we read six kinds of sub-message from it;
/// swift-protobuf would need its code generator (about ten minutes of plugin build per CI run) or committed
/// generated sources for the whole ONNX schema. The wire format is small and stable, and a reader that checks every
/// length against the bytes left is easy to make refuse damaged files instead of crashing.
struct ONNXModel: Sendable {
    var irVersion: Int64 = 0
    /// Operator-set versions by domain (`""` is the default ONNX domain).
    var opsets: [String: Int64] = [:]
    var graph = ONNXGraph()
    /// `metadata_props`, in file order.
    var metadata: [(key: String, value: String)] = []

    /// Parses a serialized `ModelProto`.
    ///
    /// - Throws: ``ModelError`` naming the first field that is truncated, malformed, external or of a type not read.
    init(bytes: [UInt8]) throws(ModelError) {
        var reader = ProtobufReader(bytes: bytes, context: "ModelProto")
        var sawGraph = false
        while let (field, wire) = try reader.readTag() {
            switch (field, wire) {
            case (1, .varint):
                irVersion = try reader.readInt64()
            case (7, .lengthDelimited):
                var sub = try reader.readMessage("GraphProto")
                graph = try Self.readGraph(&sub)
                sawGraph = true
            case (8, .lengthDelimited):
                var sub = try reader.readMessage("OperatorSetIdProto")
                let (domain, version) = try Self.readOpset(&sub)
                opsets[domain] = version
            case (14, .lengthDelimited):
                var sub = try reader.readMessage("StringStringEntryProto")
                metadata.append(try Self.readEntry(&sub))
            default:
                try reader.skip(wire)
            }
        }
        guard sawGraph else { throw .malformed(context: "ModelProto has no graph") }
    }

    private static func readOpset(_ r: inout ProtobufReader) throws(ModelError) -> (String, Int64) {
        var domain = ""
        var version: Int64 = 0
        while let (field, wire) = try r.readTag() {
            switch (field, wire) {
            case (1, .lengthDelimited): domain = try r.readString("opset domain")
            case (2, .varint): version = try r.readInt64()
            default: try r.skip(wire)
            }
        }
        return (domain, version)
    }

    private static func readEntry(_ r: inout ProtobufReader) throws(ModelError) -> (key: String, value: String) {
        var key = ""
        var value = ""
        while let (field, wire) = try r.readTag() {
            switch (field, wire) {
            case (1, .lengthDelimited): key = try r.readString("metadata key")
            case (2, .lengthDelimited): value = try r.readString("metadata value")
            default: try r.skip(wire)
            }
        }
        return (key, value)
    }

    private static func readGraph(_ r: inout ProtobufReader) throws(ModelError) -> ONNXGraph {
        var graph = ONNXGraph()
        while let (field, wire) = try r.readTag() {
            switch (field, wire) {
            case (1, .lengthDelimited):
                var sub = try r.readMessage("NodeProto")
                graph.nodes.append(try readNode(&sub))
            case (5, .lengthDelimited):
                var sub = try r.readMessage("TensorProto")
                let tensor = try readTensor(&sub)
                graph.initializers[tensor.name] = tensor
            case (11, .lengthDelimited):
                var sub = try r.readMessage("ValueInfoProto")
                graph.inputs.append(try readValueInfo(&sub))
            case (12, .lengthDelimited):
                var sub = try r.readMessage("ValueInfoProto")
                graph.outputs.append(try readValueInfo(&sub))
            case (13, .lengthDelimited):
                var sub = try r.readMessage("ValueInfoProto")
                graph.valueInfo.append(try readValueInfo(&sub))
            case (15, .lengthDelimited):
                throw .unsupportedUsage(node: "graph", reason: "sparse initializers are not supported")
            default:
                try r.skip(wire)
            }
        }
        return graph
    }

    private static func readNode(_ r: inout ProtobufReader) throws(ModelError) -> ONNXNode {
        var node = ONNXNode()
        while let (field, wire) = try r.readTag() {
            switch (field, wire) {
            case (1, .lengthDelimited): node.inputs.append(try r.readString("node input"))
            case (2, .lengthDelimited): node.outputs.append(try r.readString("node output"))
            case (3, .lengthDelimited): node.name = try r.readString("node name")
            case (4, .lengthDelimited): node.opType = try r.readString("op_type")
            case (7, .lengthDelimited): node.domain = try r.readString("node domain")
            case (5, .lengthDelimited):
                var sub = try r.readMessage("AttributeProto")
                let (name, attribute) = try readAttribute(&sub)
                node.attributes[name] = attribute
            default:
                try r.skip(wire)
            }
        }
        return node
    }

    private static func readAttribute(_ r: inout ProtobufReader) throws(ModelError) -> (String, ONNXAttribute) {
        var name = ""
        var attribute = ONNXAttribute()
        while let (field, wire) = try r.readTag() {
            switch (field, wire) {
            case (1, .lengthDelimited): name = try r.readString("attribute name")
            case (2, .fixed32): attribute.float = Float(bitPattern: try r.readFixed32())
            case (3, .varint): attribute.int = try r.readInt64()
            case (4, .lengthDelimited): attribute.string = try r.readString("attribute string")
            case (5, .lengthDelimited):
                var sub = try r.readMessage("TensorProto")
                attribute.tensor = try readTensor(&sub)
            case (7, _): try r.readFloats(wire, into: &attribute.floats)
            case (8, _): try r.readInt64s(wire, into: &attribute.ints)
            default: try r.skip(wire)
            }
        }
        return (name, attribute)
    }

    private static func readValueInfo(_ r: inout ProtobufReader) throws(ModelError) -> ONNXValueInfo {
        var info = ONNXValueInfo()
        while let (field, wire) = try r.readTag() {
            switch (field, wire) {
            case (1, .lengthDelimited):
                info.name = try r.readString("value name")
            case (2, .lengthDelimited):
                var type = try r.readMessage("TypeProto")
                while let (typeField, typeWire) = try type.readTag() {
                    guard typeField == 1, typeWire == .lengthDelimited else {
                        try type.skip(typeWire)
                        continue
                    }
                    var tensorType = try type.readMessage("TypeProto.Tensor")
                    while let (tensorField, tensorWire) = try tensorType.readTag() {
                        guard tensorField == 2, tensorWire == .lengthDelimited else {
                            try tensorType.skip(tensorWire)
                            continue
                        }
                        var shape = try tensorType.readMessage("TensorShapeProto")
                        info.dims = try readShape(&shape)
                    }
                }
            default:
                try r.skip(wire)
            }
        }
        return info
    }

    private static func readShape(_ r: inout ProtobufReader) throws(ModelError) -> [ONNXValueInfo.Dimension] {
        var dims: [ONNXValueInfo.Dimension] = []
        while let (field, wire) = try r.readTag() {
            guard field == 1, wire == .lengthDelimited else {
                try r.skip(wire)
                continue
            }
            var dim = try r.readMessage("TensorShapeProto.Dimension")
            var value = ONNXValueInfo.Dimension.unknown
            while let (dimField, dimWire) = try dim.readTag() {
                switch (dimField, dimWire) {
                case (1, .varint): value = .fixed(Int(truncatingIfNeeded: try dim.readInt64()))
                case (2, .lengthDelimited): value = .symbolic(try dim.readString("dim_param"))
                default: try dim.skip(dimWire)
                }
            }
            dims.append(value)
        }
        return dims
    }
}
