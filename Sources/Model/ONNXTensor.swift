/// A tensor from an ONNX file: an initializer or a constant, decoded to float32 or int64 values.
struct ONNXTensor: Sendable {
    /// The tensor's name in the graph.
    var name = ""
    /// The shape, outermost first; empty for a scalar.
    var dims: [Int] = []
    /// The ONNX `TensorProto.DataType` code: 1 float32, 7 int64; other types are refused when read.
    var dataType = 0
    /// The values when `dataType` is 1, row-major.
    var floats: [Float] = []
    /// The values when `dataType` is 7, row-major.
    var int64s: [Int64] = []

    /// The number of elements the shape implies (dims are checked non-negative and their product bounded).
    var elementCount: Int { dims.reduce(1, *) }

    static let float32 = 1
    static let int64 = 7
}

extension ONNXModel {
    /// Reads a `TensorProto`, decoding `raw_data` or the typed lists, and checks that the element count matches
    /// the shape.
    static func readTensor(_ r: inout ProtobufReader) throws(ModelError) -> ONNXTensor {
        var tensor = ONNXTensor()
        var raw: ArraySlice<UInt8>?
        var external = false
        while let (field, wire) = try r.readTag() {
            switch (field, wire) {
            case (1, _):
                var dims: [Int64] = []
                try r.readInt64s(wire, into: &dims)
                for dim in dims {
                    guard dim >= 0, dim <= Int64(Int32.max) else {
                        throw .malformed(context: "tensor \(tensor.name): dimension \(dim)")
                    }
                    tensor.dims.append(Int(dim))
                }
            case (2, .varint): tensor.dataType = Int(truncatingIfNeeded: try r.readInt64())
            case (4, _): try r.readFloats(wire, into: &tensor.floats)
            case (7, _): try r.readInt64s(wire, into: &tensor.int64s)
            case (8, .lengthDelimited): tensor.name = try r.readString("tensor name")
            case (9, .lengthDelimited): raw = try r.readBytes("raw_data")
            case (13, .lengthDelimited):
                external = true
                try r.skip(wire)
            case (14, .varint):
                let location = try r.readInt64()
                external = external || location == 1
            default: try r.skip(wire)
            }
        }
        if external { throw .externalData(tensor: tensor.name) }
        var count = 1
        for dim in tensor.dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= Int(Int32.max) else {
                throw .malformed(context: "tensor \(tensor.name): shape \(tensor.dims) is too large")
            }
            count = product
        }
        switch tensor.dataType {
        case ONNXTensor.float32:
            if let raw {
                guard raw.count == count * 4 else {
                    throw .shapeMismatch(
                        tensor: tensor.name, expected: "\(count * 4) bytes for \(tensor.dims)",
                        found: "\(raw.count) bytes")
                }
                tensor.floats = decodeLittleEndian(raw, count: count) {
                    Float(bitPattern: UInt32(truncatingIfNeeded: $0))
                }
            }
            guard tensor.floats.count == count else {
                throw .shapeMismatch(
                    tensor: tensor.name, expected: "\(count) values for \(tensor.dims)",
                    found: "\(tensor.floats.count)")
            }
        case ONNXTensor.int64:
            if let raw {
                guard raw.count == count * 8 else {
                    throw .shapeMismatch(
                        tensor: tensor.name, expected: "\(count * 8) bytes for \(tensor.dims)",
                        found: "\(raw.count) bytes")
                }
                tensor.int64s = decodeLittleEndian(raw, count: count) { Int64(bitPattern: $0) }
            }
            guard tensor.int64s.count == count else {
                throw .shapeMismatch(
                    tensor: tensor.name, expected: "\(count) values for \(tensor.dims)",
                    found: "\(tensor.int64s.count)")
            }
        default:
            throw .unsupportedDataType(tensor: tensor.name, dataType: tensor.dataType)
        }
        return tensor
    }

    /// Decodes `count` little-endian words of `count`-th of the slice's size each (4 or 8 bytes).
    private static func decodeLittleEndian<T>(
        _ raw: ArraySlice<UInt8>, count: Int, _ make: (UInt64) -> T
    ) -> [T] {
        guard count > 0 else { return [] }
        let width = raw.count / count
        var values: [T] = []
        values.reserveCapacity(count)
        var index = raw.startIndex
        for _ in 0..<count {
            var word: UInt64 = 0
            for byte in 0..<width { word |= UInt64(raw[index + byte]) << (8 * UInt64(byte)) }
            values.append(make(word))
            index += width
        }
        return values
    }
}
