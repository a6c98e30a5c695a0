import Testing

@testable import Model

@Suite struct ProtobufReaderTests {
    @Test func readsMultiByteVarints() throws {
        var reader = ProtobufReader(bytes: [0xAC, 0x02, 0x01], context: "test")
        #expect(try reader.readVarint() == 300)
        #expect(try reader.readVarint() == 1)
        #expect(reader.isAtEnd)
    }

    @Test func readsNegativeInt64AsTenByteVarint() throws {
        var reader = ProtobufReader(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], context: "t")
        #expect(try reader.readInt64() == -1)
    }

    @Test func refusesAVarintLongerThan64Bits() {
        var reader = ProtobufReader(bytes: Array(repeating: 0xFF, count: 10) + [0x7F], context: "t")
        #expect(throws: ModelError.self) { try reader.readVarint() }
    }

    @Test func refusesALengthBeyondTheEnd() {
        var reader = ProtobufReader(bytes: [0x0A, 0x05, 0x01, 0x02], context: "t")
        #expect(throws: ModelError.truncated(context: "t: inner announces 5 bytes, 2 left")) {
            _ = try reader.readTag()
            _ = try reader.readMessage("inner")
        }
    }

    @Test func refusesGroupWireTypes() {
        var reader = ProtobufReader(bytes: [0x0B], context: "t")
        #expect(throws: ModelError.self) { try reader.readTag() }
    }

    @Test func readsPackedAndUnpackedFloats() throws {
        // Field 4 packed: two floats (1.0, -2.0); then field 4 unpacked: 0.5.
        var reader = ProtobufReader(
            bytes: [0x22, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x25, 0x00, 0x00, 0x00, 0x3F],
            context: "t")
        var values: [Float] = []
        while let (_, wire) = try reader.readTag() { try reader.readFloats(wire, into: &values) }
        #expect(values == [1, -2, 0.5])
    }

    @Test func readsTheGraphOfAnExportedModel() throws {
        let model = try ONNXModel(bytes: try Fixtures.bytes("paper.onnx"))
        #expect(model.opsets[""] == 20)
        #expect(model.graph.inputs.first?.name == "input")
        #expect(model.graph.outputs.first?.name == "logits")
        #expect(model.graph.nodes.contains { $0.opType == "Conv" && $0.attributes["kernel_shape"]?.ints == [39] })
        #expect(model.metadata.contains { $0.key == "ecg.task" && $0.value == "all" })
    }
}
