@testable import Stream

/// The frame decoder over whole streams in all three sample formats, fed in chunks of any size.
///
/// Input: a control byte, a chunk-size byte, a lead-count byte, then the stream body.
/// Control bits 0–1 pick the header: `i16le`, `f32le`, `csv` (written by this target, so mutations go to the
/// frames), or 3: the body begins with its own header line. Bit 2 selects the smallest limits, so the line,
/// frame and garbage limits and buffer compaction are reached. Bit 3 makes the body a list of frame descriptions
/// that this target encodes with valid checksums, so the decoder's paths after the checksum are reached; random
/// bytes almost never carry a valid CRC-32.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard input.count >= 3 else { return 0 }
    let control = input[0]
    let chunkSize = Int(input[1]) + 1
    let leadCount = Int(input[2]) % StandardLead.allCases.count + 1
    let body = UnsafeBufferPointer(rebasing: input[3...])
    var stream: [UInt8] = []
    let leads = Array(StandardLead.allCases.prefix(leadCount))
    let format: SampleFormat
    switch control & 3 {
    case 0:
        format = .int16(gain: (0..<leadCount).map { 200 + Double($0) }, baseline: (0..<leadCount).map { Double($0) })
    case 1: format = .float32
    case 2: format = .csv
    default: format = .float32
    }
    if control & 3 != 3 {
        guard let header = try? StreamHeader(streamID: "fuzz", sampleRateHz: 500, leads: leads, format: format) else {
            fatalError("the fuzz target's own header is invalid")
        }
        stream += Array(header.jsonLine.utf8)
    }
    if control & 8 != 0 {
        encodeFrames(from: body, into: &stream)
    } else {
        stream += body
    }
    let limits =
        control & 4 != 0
        ? DecoderLimits(maxLineBytes: 256, maxFrameSamples: 8, bufferBytes: 512, maxGarbageBytes: 300)
        : DecoderLimits.standard
    decode(stream, limits: limits, chunkSize: chunkSize)
    return 0
}

/// The sum of every sample decoded, kept so that the optimizer cannot drop the reads of the frames' buffers.
nonisolated(unsafe) private var sampleSum: Float = 0

/// Feeds `stream` to a decoder `chunkSize` bytes at a time and reads every sample of every frame; `i16le`
/// samples must be finite (the header's gains and baselines are checked for that).
private func decode(_ stream: [UInt8], limits: DecoderLimits, chunkSize: Int) {
    guard let decoder = try? FrameDecoder(limits: limits) else { fatalError("the fuzz limits are invalid") }
    var offset = 0
    do {
        while offset < stream.count {
            let end = min(offset + chunkSize, stream.count)
            let taken = stream[offset..<end].withUnsafeBytes { decoder.append($0) }
            decoder.testOnly_checkInvariants()
            offset += taken
            while let item = try decoder.next() {
                decoder.testOnly_checkInvariants()
                guard case .frame(let frame) = item else { continue }
                precondition(frame.millivolts.count == frame.sampleCount * frame.leadCount)
                precondition(frame.railed.count == frame.millivolts.count)
                let scaled = if case .int16 = decoder.header?.format { true } else { false }
                for (value, railed) in zip(frame.millivolts, frame.railed) where !railed {
                    precondition(!scaled || value.isFinite, "i16le sample scaled to \(value)")
                    sampleSum += value
                }
            }
            precondition(taken > 0 || offset == stream.count, "the decoder took no byte after next() returned nil")
        }
        try decoder.finish()
    } catch {
        FuzzSupport.requireOneLine(error.description)
    }
}

/// Encodes the frame descriptions in `body` as frames with valid checksums, with garbage between them.
///
/// A description is a tag byte: with bit 7 set, the next `tag & 0x7F` bytes are copied as garbage; otherwise a
/// frame follows: lead count (0…15), format code and samples per lead (0…31) from one byte each, the first sample
/// index (4 bytes), then as many sample bytes as the frame needs, zeros when the input runs out. The counts are
/// kept small so that every input runs fast, yet reach past the 12 leads and the small limits' 8 samples.
private func encodeFrames(from body: UnsafeBufferPointer<UInt8>, into stream: inout [UInt8]) {
    var index = 0
    func nextByte() -> UInt8 {
        defer { index += 1 }
        return index < body.count ? body[index] : 0
    }
    while index < body.count {
        let tag = nextByte()
        if tag & 0x80 != 0 {
            for _ in 0..<Int(tag & 0x7F) { stream.append(nextByte()) }
            continue
        }
        let start = stream.count
        let leadCount = nextByte() % 16
        let formatCode = nextByte()
        let samples = nextByte() % 32
        stream += SampleFrame.syncBytes + [leadCount, formatCode, samples, 0]
        for _ in 0..<4 { stream.append(nextByte()) }
        let bytesPerSample = formatCode == 1 ? 2 : 4
        for _ in 0..<(Int(leadCount) * Int(samples) * bytesPerSample) { stream.append(nextByte()) }
        let crc = stream[start...].withUnsafeBytes { CRC32.checksum($0) }
        for shift in stride(from: 0, to: 32, by: 8) { stream.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
    }
}
