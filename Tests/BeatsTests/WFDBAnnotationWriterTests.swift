import Testing

@testable import Beats

/// Reads back MIT-format annotation bytes: (sample, code) pairs, following SKIP words.
private func readAnnotations(_ bytes: [UInt8]) -> [(sample: Int, code: Int)] {
    var result: [(Int, Int)] = []
    var time = 0
    var offset = 0
    func word(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    while offset + 1 < bytes.count {
        let value = word(offset)
        offset += 2
        let code = value >> 10
        let interval = value & 0x3FF
        if code == 0 && interval == 0 { break }
        if code == 59 {
            time += word(offset) << 16 | word(offset + 2)
            offset += 4
            continue
        }
        time += interval
        result.append((time, code))
    }
    return result
}

@Suite struct WFDBAnnotationWriterTests {
    @Test func writesBeatsAsNormalBeatWordsAndAnEndWord() throws {
        var writer = WFDBAnnotationWriter()
        try writer.appendBeat(atSampleIndex: 3)
        try writer.appendBeat(atSampleIndex: 300)
        #expect(writer.bytes == [0x03, 0x04, 0x29, 0x05, 0x00, 0x00])
    }

    @Test(arguments: [1023, 1024, 70_000, 2_000_000_000])
    func roundTripsGapsLongerThanTenBitsThroughSkip(gap: Int) throws {
        var writer = WFDBAnnotationWriter()
        let samples = [10, 10 + gap, 10 + gap + 1, 10 + gap + 400]
        for sample in samples { try writer.appendBeat(atSampleIndex: sample) }
        let read = readAnnotations(writer.bytes)
        #expect(read.map(\.sample) == samples)
        #expect(read.allSatisfy { $0.code == 1 })
    }

    @Test func refusesAnnotationsOutOfOrderOrBeyondThirtyTwoBits() throws {
        var writer = WFDBAnnotationWriter()
        try writer.appendBeat(atSampleIndex: 500)
        #expect(throws: BeatsError.annotationOutOfOrder(sampleIndex: 499, previousSampleIndex: 500)) {
            try writer.appendBeat(atSampleIndex: 499)
        }
        #expect(throws: BeatsError.annotationTooLate(sampleIndex: 1 << 32)) {
            try writer.appendBeat(atSampleIndex: 1 << 32)
        }
        #expect(readAnnotations(writer.bytes).map(\.sample) == [500])
    }
}
