import Testing

@testable import Stream

@Suite struct CRC32Tests {
    @Test func matchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func emptyInputHasChecksumZero() {
        #expect(CRC32.checksum([UInt8]()) == 0)
    }
}
