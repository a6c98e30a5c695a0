import Testing

@testable import Stream

@Suite struct FrameDecoderTests {
    private static let leads: [StandardLead] = [.i, .ii, .v1]

    /// A header and three i16 frames of 3 leads, first indices 0, 4, 6.
    private static func int16Stream() throws -> [UInt8] {
        let header = try StreamHeader(
            streamID: "s",
            sampleRateHz: 250,
            leads: leads,
            format: .int16(gain: [100, 100, 200], baseline: [0, 10, 0])
        )
        var bytes = Array(header.jsonLine.utf8)
        SampleFrame.appendInt16Frame(
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            leadCount: 3,
            firstSampleIndex: 0,
            to: &bytes
        )
        SampleFrame.appendInt16Frame(
            [Int16.max, -100, 0, 50, Int16.min, 2],
            leadCount: 3,
            firstSampleIndex: 4,
            to: &bytes
        )
        SampleFrame.appendInt16Frame([0x0EC, 0x47, 0x47EC], leadCount: 3, firstSampleIndex: 6, to: &bytes)
        return bytes
    }

    @Test func decodesHeaderThenFramesInMillivolts() throws {
        let decoder = try FrameDecoder()
        let (header, frames) = try TestSupport.decodeAll(try Self.int16Stream(), chunk: 1 << 20, decoder: decoder)
        #expect(header?.leads == Self.leads)
        #expect(frames.count == 3)
        #expect(frames.map(\.firstSampleIndex) == [0, 4, 6])
        #expect(frames[0].millivolts[0..<3] == [0.01, -0.08, 0.015])
        #expect(frames[1].railed == [true, false, false, false, true, false])
        #expect(frames[1].millivolts[0] == Float((32767.0) / 100))
        #expect(decoder.skippedByteCount == 0)
        #expect(decoder.bufferedByteCount == 0)
        #expect(throws: Never.self) { try decoder.finish() }
    }

    @Test func decodesTheSameItemsWhenSplitAtEveryByteOffset() throws {
        let bytes = try Self.int16Stream()
        let reference = try TestSupport.decodeAll(bytes, chunk: bytes.count, decoder: try FrameDecoder())
        for split in 1..<bytes.count {
            let decoder = try FrameDecoder()
            var frames: [TestSupport.DecodedFrame] = []
            var header: StreamHeader?
            for part in [Array(bytes[..<split]), Array(bytes[split...])] {
                let decoded = try TestSupport.decodeAll(part, chunk: part.count, decoder: decoder)
                frames += decoded.frames
                header = header ?? decoded.header
            }
            #expect(header == reference.header, "split at \(split)")
            #expect(frames == reference.frames, "split at \(split)")
        }
        let oneByteAtATime = try TestSupport.decodeAll(bytes, chunk: 1, decoder: try FrameDecoder())
        #expect(oneByteAtATime.frames == reference.frames)
    }

    @Test func aStreamSentInSmallBlocksStaysAtTheFrontOfTheBuffer() throws {
        let header = try StreamHeader(
            streamID: "s", sampleRateHz: 500, leads: Self.leads,
            format: .int16(gain: [100, 100, 100], baseline: [0, 0, 0]))
        let decoder = try FrameDecoder()
        #expect(try TestSupport.decodeAll(Array(header.jsonLine.utf8), chunk: 64, decoder: decoder).header != nil)
        // ten minutes of 50-sample blocks, each arriving in two reads that split it
        var decoded = 0
        for block in 0..<6_000 {
            var bytes: [UInt8] = []
            let values = (0..<150).map { Int16(truncatingIfNeeded: block &+ $0) }
            SampleFrame.appendInt16Frame(values, leadCount: 3, firstSampleIndex: UInt32(50 * block), to: &bytes)
            decoded += try TestSupport.decodeAll(bytes, chunk: 200, decoder: decoder).frames.count
        }
        #expect(decoded == 6_000)
        #expect(decoder.bufferedByteCount == 0)
        // one block is 300 bytes of samples plus the frame's own header and checksum
        #expect(decoder.furthestWriteIndex < 400)
    }

    @Test func skipsGarbageBetweenAndInsideFramesAndCountsIt() throws {
        let clean = try Self.int16Stream()
        let headerEnd = try #require(clean.firstIndex(of: UInt8(ascii: "\n"))) + 1
        let frameBytes = SampleFrame.byteCount(leadCount: 3, sampleCount: 4, bytesPerSample: 2)
        var generator = TestSupport.Generator(seed: 7)
        // Garbage that contains sync bytes and plausible frame headers.
        let garbage: [UInt8] =
            [0xEC, 0x47, 3, 1, 4, 0, 0, 0, 0, 0, 0xEC, 0xEC, 0x47, 0x00]
            + (0..<50).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var noisy = Array(clean[..<headerEnd]) + garbage
        noisy += clean[headerEnd..<(headerEnd + frameBytes)]
        noisy += garbage
        noisy += clean[(headerEnd + frameBytes)...]
        let reference = try TestSupport.decodeAll(clean, chunk: clean.count, decoder: try FrameDecoder())
        for chunk in [1, 3, 17, noisy.count] {
            let decoder = try FrameDecoder()
            let decoded = try TestSupport.decodeAll(noisy, chunk: chunk, decoder: decoder)
            #expect(decoded.frames == reference.frames, "chunk \(chunk)")
            #expect(decoder.skippedByteCount == 2 * garbage.count, "chunk \(chunk)")
        }
    }

    @Test func corruptedFrameIsSkippedAndTheNextOneDecoded() throws {
        var bytes = try Self.int16Stream()
        let headerEnd = try #require(bytes.firstIndex(of: UInt8(ascii: "\n"))) + 1
        bytes[headerEnd + 12] ^= 0x40
        let decoder = try FrameDecoder()
        let decoded = try TestSupport.decodeAll(bytes, chunk: 5, decoder: decoder)
        #expect(decoded.frames.map(\.firstSampleIndex) == [4, 6])
        #expect(decoder.skippedByteCount == SampleFrame.byteCount(leadCount: 3, sampleCount: 4, bytesPerSample: 2))
    }

    @Test func endOfStreamMidFrameIsTruncation() throws {
        let bytes = try Self.int16Stream()
        let decoder = try FrameDecoder()
        _ = try TestSupport.decodeAll(Array(bytes.dropLast(3)), chunk: 64, decoder: decoder)
        #expect(
            throws: StreamError.truncatedStream(
                bufferedBytes: SampleFrame.byteCount(leadCount: 3, sampleCount: 1, bytesPerSample: 2) - 3
            )
        ) {
            try decoder.finish()
        }
    }

    @Test func endOfStreamBeforeHeaderIsABadHeader() throws {
        let decoder = try FrameDecoder()
        #expect(throws: StreamError.badHeader(reason: "the stream ended before its header line")) {
            try decoder.finish()
        }
    }

    @Test func validFrameWithAnotherLeadCountIsAWrongFrameSize() throws {
        var bytes = Array(try TestSupport.header(leads: Self.leads, format: .float32).jsonLine.utf8)
        SampleFrame.appendFloat32Frame([1, 2, 3, 4], leadCount: 4, firstSampleIndex: 0, to: &bytes)
        #expect(throws: StreamError.wrongFrameSize(expectedLeads: 3, actualLeads: 4)) {
            try TestSupport.decodeAll(bytes, chunk: 7, decoder: try FrameDecoder())
        }
    }

    @Test func validFrameInAnotherFormatIsRefused() throws {
        var bytes = Array(try TestSupport.header(leads: Self.leads, format: .float32).jsonLine.utf8)
        SampleFrame.appendInt16Frame([1, 2, 3], leadCount: 3, firstSampleIndex: 0, to: &bytes)
        #expect(throws: StreamError.wrongFrameFormat(expected: "f32le", actual: "i16le")) {
            try TestSupport.decodeAll(bytes, chunk: 7, decoder: try FrameDecoder())
        }
    }

    @Test func frameOverTheSampleLimitIsRefusedAtAFrameBoundary() throws {
        var limits = DecoderLimits.standard
        limits.maxFrameSamples = 10
        var bytes = Array(try TestSupport.header(leads: Self.leads, format: .float32).jsonLine.utf8)
        SampleFrame.appendFloat32Frame([Float](repeating: 0, count: 33), leadCount: 3, firstSampleIndex: 0, to: &bytes)
        #expect(throws: StreamError.frameTooLarge(samples: 11, limitSamples: 10)) {
            try TestSupport.decodeAll(bytes, chunk: 1000, decoder: try FrameDecoder(limits: limits))
        }
    }

    @Test func tooMuchGarbageIsRefused() throws {
        var limits = DecoderLimits.standard
        limits.maxGarbageBytes = 100
        let bytes =
            Array(try TestSupport.header(leads: Self.leads, format: .float32).jsonLine.utf8)
            + [UInt8](repeating: 0x55, count: 101)
        #expect(throws: StreamError.noValidFrame(skippedBytes: 101)) {
            try TestSupport.decodeAll(bytes, chunk: 1000, decoder: try FrameDecoder(limits: limits))
        }
    }

    @Test func headerLineOverTheLimitIsRefused() throws {
        let bytes = [UInt8](repeating: UInt8(ascii: " "), count: 5000)
        #expect(throws: StreamError.lineTooLong(limitBytes: 4096)) {
            try TestSupport.decodeAll(bytes, chunk: 100, decoder: try FrameDecoder())
        }
    }

    @Test func csvLinesDecodeOneInstantEach() throws {
        let text = try TestSupport.header(leads: Self.leads, format: .csv).jsonLine + "0.1,0.2,0.3\r\n\n 1 , nan, -2\n"
        let decoder = try FrameDecoder()
        let decoded = try TestSupport.decodeAll(Array(text.utf8), chunk: 3, decoder: decoder)
        #expect(decoded.frames.count == 2)
        #expect(decoded.frames[0].millivolts == [0.1, 0.2, 0.3])
        #expect(decoded.frames[1].millivolts[1].isNaN)
        #expect(decoded.frames[1].firstSampleIndex == nil)
    }

    @Test func csvLineWithWrongValueCountIsRefused() throws {
        let text = try TestSupport.header(leads: Self.leads, format: .csv).jsonLine + "0.1,0.2\n"
        #expect(throws: StreamError.wrongFrameSize(expectedLeads: 3, actualLeads: 2)) {
            try TestSupport.decodeAll(Array(text.utf8), chunk: 64, decoder: try FrameDecoder())
        }
    }

    @Test func csvLineOverTheLimitIsRefused() throws {
        let text =
            try TestSupport.header(leads: Self.leads, format: .csv).jsonLine + String(repeating: "1", count: 5000)
        #expect(throws: StreamError.lineTooLong(limitBytes: 4096)) {
            try TestSupport.decodeAll(Array(text.utf8), chunk: 512, decoder: try FrameDecoder())
        }
    }

    @Test func inconsistentLimitsAreRefused() {
        #expect(throws: StreamError.self) {
            try FrameDecoder(
                limits: DecoderLimits(maxLineBytes: 4096, maxFrameSamples: 1000, bufferBytes: 4096, maxGarbageBytes: 10)
            )
        }
    }

    @Test func findsAHeaderAndCSVLinesDeliveredOneByteAtATime() throws {
        let text = try TestSupport.header(leads: Self.leads, format: .csv).jsonLine + "0.1,0.2,0.3\n\n4,5,6\n"
        let decoded = try TestSupport.decodeAll(Array(text.utf8), chunk: 1, decoder: try FrameDecoder())
        #expect(decoded.header?.leads == Self.leads)
        #expect(decoded.frames.map(\.millivolts) == [[0.1, 0.2, 0.3], [4, 5, 6]])
    }

    @Test func refusesALineDrippedByteByBytePastTheLimit() throws {
        let bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 4097)
        #expect(throws: StreamError.lineTooLong(limitBytes: 4096)) {
            try TestSupport.decodeAll(bytes, chunk: 1, decoder: try FrameDecoder())
        }
    }
}
