/// A bounds-checked cursor over protobuf wire-format bytes.
///
/// Every read checks the remaining length first and throws ``ModelError/truncated(context:)`` or
/// ``ModelError/malformed(context:)`` instead of reading past the end, so that a damaged or hostile file cannot
/// crash the process. Sub-messages are read through child readers sharing the same storage (no copies).
struct ProtobufReader {
    /// The wire types of the protobuf encoding (groups, 3 and 4, are obsolete and refused).
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    private let bytes: [UInt8]
    private var position: Int
    private let end: Int
    /// What is being read, for error messages (`"TensorProto conv.weight"`).
    let context: String

    /// A reader over a whole buffer.
    init(bytes: [UInt8], context: String) {
        self.init(bytes: bytes, range: 0..<bytes.count, context: context)
    }

    private init(bytes: [UInt8], range: Range<Int>, context: String) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.context = context
    }

    /// Whether every byte of this message has been consumed.
    var isAtEnd: Bool { position >= end }

    /// Reads a field key; `nil` at the end of the message.
    mutating func readTag() throws(ModelError) -> (field: Int, wireType: WireType)? {
        guard !isAtEnd else { return nil }
        let key = try readVarint()
        guard let wireType = WireType(rawValue: key & 7) else {
            throw .malformed(context: "\(context): unknown wire type \(key & 7)")
        }
        let field = key >> 3
        guard field > 0, field <= UInt64(Int32.max) else {
            throw .malformed(context: "\(context): field number \(field)")
        }
        return (Int(field), wireType)
    }

    /// Reads a base-128 varint of at most 10 bytes.
    mutating func readVarint() throws(ModelError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw .truncated(context: "\(context): varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64, shift < 63 || byte <= 1 else {
                throw .malformed(context: "\(context): varint longer than 64 bits")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// Reads a varint-encoded `int64` (two's complement, as protobuf writes negative values).
    mutating func readInt64() throws(ModelError) -> Int64 {
        Int64(bitPattern: try readVarint())
    }

    /// Reads a varint that must fit a non-negative `Int`.
    mutating func readCount(_ what: String) throws(ModelError) -> Int {
        let value = try readVarint()
        guard value <= UInt64(Int32.max) else { throw .malformed(context: "\(context): \(what) \(value)") }
        return Int(value)
    }

    /// Reads a little-endian 4-byte word.
    mutating func readFixed32() throws(ModelError) -> UInt32 {
        guard end - position >= 4 else { throw .truncated(context: "\(context): fixed32") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    /// Reads a length-delimited field's payload as a child reader and moves past it.
    mutating func readMessage(_ context: String) throws(ModelError) -> ProtobufReader {
        let length = try readCount("length")
        guard length <= end - position else {
            throw .truncated(context: "\(self.context): \(context) announces \(length) bytes, \(end - position) left")
        }
        let child = ProtobufReader(bytes: bytes, range: position..<(position + length), context: context)
        position += length
        return child
    }

    /// Reads a length-delimited field as raw bytes.
    mutating func readBytes(_ what: String) throws(ModelError) -> ArraySlice<UInt8> {
        let child = try readMessage(what)
        return bytes[child.position..<child.end]
    }

    /// Reads a length-delimited field as UTF-8 text (invalid sequences are repaired, never trusted).
    mutating func readString(_ what: String) throws(ModelError) -> String {
        String(decoding: try readBytes(what), as: UTF8.self)
    }

    /// Skips a field of the given wire type.
    mutating func skip(_ wireType: WireType) throws(ModelError) {
        switch wireType {
        case .varint:
            _ = try readVarint()
        case .fixed64:
            guard end - position >= 8 else { throw .truncated(context: "\(context): fixed64") }
            position += 8
        case .fixed32:
            _ = try readFixed32()
        case .lengthDelimited:
            _ = try readMessage(context)
        }
    }

    /// Appends a repeated `int64` field, packed or not (writers may use either encoding).
    mutating func readInt64s(_ wireType: WireType, into values: inout [Int64]) throws(ModelError) {
        switch wireType {
        case .varint:
            values.append(try readInt64())
        case .lengthDelimited:
            var packed = try readMessage(context)
            while !packed.isAtEnd { values.append(try packed.readInt64()) }
        default:
            throw .malformed(context: "\(context): int64 list with wire type \(wireType.rawValue)")
        }
    }

    /// Appends a repeated `float` field, packed or not.
    mutating func readFloats(_ wireType: WireType, into values: inout [Float]) throws(ModelError) {
        switch wireType {
        case .fixed32:
            values.append(Float(bitPattern: try readFixed32()))
        case .lengthDelimited:
            var packed = try readMessage(context)
            guard (packed.end - packed.position) % 4 == 0 else {
                throw .malformed(context: "\(context): packed floats of \(packed.end - packed.position) bytes")
            }
            values.reserveCapacity(values.count + (packed.end - packed.position) / 4)
            while !packed.isAtEnd { values.append(Float(bitPattern: try packed.readFixed32())) }
        default:
            throw .malformed(context: "\(context): float list with wire type \(wireType.rawValue)")
        }
    }

    /// Checks that a scalar field arrived with the wire type its declaration implies.
    func expect(_ wireType: WireType, _ actual: WireType, field: String) throws(ModelError) {
        guard wireType == actual else {
            throw .malformed(context: "\(context): field \(field) has wire type \(actual.rawValue)")
        }
    }
}
