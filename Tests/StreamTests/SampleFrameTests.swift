import Testing

@testable import Stream

@Suite struct SampleFrameTests {
    @Test func int16FrameHasTheDocumentedLayout() {
        var bytes: [UInt8] = []
        SampleFrame.appendInt16Frame([1, -2, 300, Int16.min], leadCount: 2, firstSampleIndex: 0x0102_0304, to: &bytes)
        #expect(bytes.count == SampleFrame.byteCount(leadCount: 2, sampleCount: 2, bytesPerSample: 2))
        #expect(Array(bytes[0..<10]) == [0xEC, 0x47, 2, 1, 2, 0, 0x04, 0x03, 0x02, 0x01])
        #expect(Array(bytes[10..<18]) == [0x01, 0x00, 0xFE, 0xFF, 0x2C, 0x01, 0x00, 0x80])
        // The checksum as Python's zlib.crc32 computes it over the first 18 bytes (docs/protocol.md's example).
        #expect(Array(bytes[18..<22]) == [0xE5, 0x64, 0x01, 0x36])
    }

    @Test func float32FrameStoresIEEEBitPatterns() {
        var bytes: [UInt8] = []
        SampleFrame.appendFloat32Frame([1.0], leadCount: 1, firstSampleIndex: 7, to: &bytes)
        #expect(Array(bytes[2..<6]) == [1, 2, 1, 0])
        #expect(Array(bytes[10..<14]) == [0x00, 0x00, 0x80, 0x3F])
    }

    @Test func csvLinesUseFixedPointText() {
        var bytes: [UInt8] = []
        SampleFrame.appendCSVLines([0.5, -0.00004, 12.34567, -3], leadCount: 2, decimals: 4, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "0.5000,0.0000\n12.3457,-3.0000\n")
    }

    @Test func decimalTextSpellsNonFiniteValues() {
        #expect(SampleFrame.decimalText(.nan, decimals: 2) == "nan")
        #expect(SampleFrame.decimalText(-.infinity, decimals: 2) == "-inf")
        #expect(SampleFrame.decimalText(1.005, decimals: 0) == "1")
    }
}
