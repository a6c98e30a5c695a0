/// Pure incremental decoder of one stream: the header line, then frames; no I/O, no threads.
///
/// Feed bytes with ``append(_:)`` and pull items with ``next()`` until it returns `nil` (more bytes needed).
/// Bytes may arrive split anywhere. In binary formats, bytes that do not form a frame with a valid checksum
/// are skipped and counted (``skippedByteCount``) until the next frame; a frame with a valid checksum whose
/// shape disagrees with the header is an error. All memory is allocated in `init` (``DecoderLimits``).
///
/// - Important: after ``next()`` throws, the stream is broken and must be closed.
public final class FrameDecoder {
    /// What ``next()`` found.
    public enum Item {
        /// The stream's header; always the first item, exactly once.
        case header(StreamHeader)
        /// A block of samples; valid until the decoder is called again.
        case frame(SampleFrame)
    }

    /// The limits this decoder enforces.
    public let limits: DecoderLimits
    /// The stream's header once decoded.
    public private(set) var header: StreamHeader?
    /// Bytes skipped as garbage since the stream began.
    public private(set) var skippedByteCount = 0
    /// Frames decoded since the stream began.
    public private(set) var frameCount = 0

    private let buffer: UnsafeMutablePointer<UInt8>
    private var readIndex = 0
    private var writeIndex = 0
    private var consecutiveSkippedBytes = 0
    /// Bytes after `readIndex` already searched for a newline, so a line arriving in many small reads is scanned
    /// once rather than once per read.
    private var lineSearchedBytes = 0
    /// How far into the buffer bytes have ever been written: the part of it that has become resident.
    private(set) var furthestWriteIndex = 0
    private let values: UnsafeMutablePointer<Float>
    private let railed: UnsafeMutablePointer<Bool>
    private let scratchCapacity: Int

    /// Creates a decoder with buffers sized by `limits`.
    ///
    /// - Throws: ``StreamError/badConfiguration(reason:)`` if the limits are inconsistent.
    public init(limits: DecoderLimits = .standard) throws(StreamError) {
        try limits.validate()
        self.limits = limits
        buffer = .allocate(capacity: limits.bufferBytes)
        scratchCapacity = limits.maxFrameSamples * StandardLead.allCases.count
        values = .allocate(capacity: scratchCapacity)
        railed = .allocate(capacity: scratchCapacity)
    }

    deinit {
        buffer.deallocate()
        values.deallocate()
        railed.deallocate()
    }

    /// Bytes held that do not yet form a complete line or frame.
    public var bufferedByteCount: Int { writeIndex - readIndex }

    /// Copies as many of `bytes` as fit into the decoder's buffer.
    ///
    /// - Returns: the number of bytes taken; call ``next()`` until it returns `nil`, then append the rest.
    ///   After ``next()`` returned `nil`, at least one byte is always taken.
    /// - Complexity: O(n) in the bytes copied, plus moving the buffered remainder (less than one line or frame
    ///   once ``next()`` returned `nil`) to the front.
    public func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        // Starting every append at the front keeps a stream that sends small blocks in the first page or two of
        // the buffer: the rest is never written, so it never becomes resident (thousands of streams each hold one).
        if readIndex > 0 {
            compact()
        }
        let count = min(bytes.count, limits.bufferBytes - writeIndex)
        guard count > 0, let source = bytes.baseAddress else { return 0 }
        (buffer + writeIndex).update(from: source.assumingMemoryBound(to: UInt8.self), count: count)
        writeIndex += count
        furthestWriteIndex = max(furthestWriteIndex, writeIndex)
        return count
    }

    /// Decodes the next item from the buffered bytes.
    ///
    /// - Returns: the header, a frame, or `nil` when more bytes are needed.
    /// - Throws: the protocol violation found (see ``StreamError``).
    public func next() throws(StreamError) -> Item? {
        guard let header else {
            guard let line = try nextLine() else { return nil }
            let parsed = try StreamHeader.parse(
                line: UnsafeBufferPointer(start: buffer + line.start, count: line.count)
            )
            self.header = parsed
            return .header(parsed)
        }
        let frame: SampleFrame?
        switch header.format {
        case .csv: frame = try nextCSVFrame(leadCount: header.leads.count)
        case .int16, .float32: frame = try nextBinaryFrame(header: header)
        }
        guard let frame else { return nil }
        frameCount += 1
        return .frame(frame)
    }

    /// Checks that the stream ended at an item boundary.
    ///
    /// - Throws: ``StreamError/truncatedStream(bufferedBytes:)`` if part of a line or frame is buffered,
    ///   ``StreamError/badHeader(reason:)`` if the stream ended before its header.
    public func finish() throws(StreamError) {
        guard bufferedByteCount == 0 else { throw .truncatedStream(bufferedBytes: bufferedByteCount) }
        guard header != nil else { throw .badHeader(reason: "the stream ended before its header line") }
    }

    // MARK: - Lines

    /// Finds the next newline-terminated line, consuming it; the range excludes the newline and a trailing CR.
    private func nextLine() throws(StreamError) -> (start: Int, count: Int)? {
        let available = bufferedByteCount
        let searchCount = min(available, limits.maxLineBytes)
        let start = readIndex
        var newline = -1
        for offset in lineSearchedBytes..<max(searchCount, lineSearchedBytes)
        where buffer[start + offset] == UInt8(ascii: "\n") {
            newline = offset
            break
        }
        guard newline >= 0 else {
            if available >= limits.maxLineBytes { throw .lineTooLong(limitBytes: limits.maxLineBytes) }
            lineSearchedBytes = searchCount
            return nil
        }
        readIndex += newline + 1
        lineSearchedBytes = 0
        var count = newline
        if count > 0, buffer[start + count - 1] == UInt8(ascii: "\r") { count -= 1 }
        return (start, count)
    }

    private func nextCSVFrame(leadCount: Int) throws(StreamError) -> SampleFrame? {
        while let line = try nextLine() {
            let text = UnsafeBufferPointer(start: buffer + line.start, count: line.count)
            if text.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            try CSVLineParser.parse(text, leadCount: leadCount, into: values)
            railed.update(repeating: false, count: leadCount)
            return SampleFrame(
                firstSampleIndex: nil,
                sampleCount: 1,
                leadCount: leadCount,
                millivolts: UnsafeBufferPointer(start: values, count: leadCount),
                railed: UnsafeBufferPointer(start: railed, count: leadCount)
            )
        }
        return nil
    }

    // MARK: - Binary frames

    private func nextBinaryFrame(header: StreamHeader) throws(StreamError) -> SampleFrame? {
        while true {
            let available = bufferedByteCount
            guard available >= 2 else { return nil }
            let base = buffer + readIndex
            guard base[0] == SampleFrame.syncBytes[0], base[1] == SampleFrame.syncBytes[1] else {
                try skipToNextSync()
                continue
            }
            guard available >= SampleFrame.headerByteCount else { return nil }
            let leadCount = Int(base[2])
            let formatCode = base[3]
            let sampleCount = Int(base[4]) | Int(base[5]) << 8
            let atBoundary = consecutiveSkippedBytes == 0
            let plausible =
                (1...StandardLead.allCases.count).contains(leadCount) && (formatCode == 1 || formatCode == 2)
                && sampleCount >= 1
            guard plausible else {
                try skip(1)
                continue
            }
            guard sampleCount <= limits.maxFrameSamples else {
                // At a frame boundary this is a real frame over the limit; inside garbage it is noise.
                if atBoundary { throw .frameTooLarge(samples: sampleCount, limitSamples: limits.maxFrameSamples) }
                try skip(1)
                continue
            }
            let bytesPerSample = formatCode == 1 ? 2 : 4
            let total = SampleFrame.byteCount(
                leadCount: leadCount,
                sampleCount: sampleCount,
                bytesPerSample: bytesPerSample
            )
            guard available >= total else { return nil }
            guard checksumMatches(base, byteCount: total) else {
                try skip(1)
                continue
            }
            guard leadCount == header.leads.count else {
                throw .wrongFrameSize(expectedLeads: header.leads.count, actualLeads: leadCount)
            }
            guard formatCode == header.format.frameFormatCode else {
                throw .wrongFrameFormat(
                    expected: header.format.wireName,
                    actual: SampleFormat.wireName(ofFrameFormatCode: formatCode)
                )
            }
            let firstIndex = UInt32(base[6]) | UInt32(base[7]) << 8 | UInt32(base[8]) << 16 | UInt32(base[9]) << 24
            convertSamples(
                from: base + SampleFrame.headerByteCount,
                count: sampleCount * leadCount,
                format: header.format
            )
            readIndex += total
            consecutiveSkippedBytes = 0
            return SampleFrame(
                firstSampleIndex: firstIndex,
                sampleCount: sampleCount,
                leadCount: leadCount,
                millivolts: UnsafeBufferPointer(start: values, count: sampleCount * leadCount),
                railed: UnsafeBufferPointer(start: railed, count: sampleCount * leadCount)
            )
        }
    }

    private func checksumMatches(_ base: UnsafeMutablePointer<UInt8>, byteCount: Int) -> Bool {
        let payloadCount = byteCount - SampleFrame.trailerByteCount
        let trailer = base + payloadCount
        let stored = UInt32(trailer[0]) | UInt32(trailer[1]) << 8 | UInt32(trailer[2]) << 16 | UInt32(trailer[3]) << 24
        return CRC32.checksum(UnsafeRawBufferPointer(start: base, count: payloadCount)) == stored
    }

    /// Converts little-endian samples to millivolts in the scratch buffers, noting rail values.
    private func convertSamples(from source: UnsafeMutablePointer<UInt8>, count: Int, format: SampleFormat) {
        assert(count <= scratchCapacity)
        switch format {
        case .int16(let gain, let baseline):
            let leadCount = gain.count
            for index in 0..<count {
                let raw = Int16(bitPattern: UInt16(source[2 * index]) | UInt16(source[2 * index + 1]) << 8)
                let lead = index % leadCount
                values[index] = Float((Double(raw) - baseline[lead]) / gain[lead])
                railed[index] = raw == Int16.min || raw == Int16.max
            }
        case .float32:
            for index in 0..<count {
                let bits =
                    UInt32(source[4 * index]) | UInt32(source[4 * index + 1]) << 8 | UInt32(source[4 * index + 2]) << 16
                    | UInt32(source[4 * index + 3]) << 24
                values[index] = Float(bitPattern: bits)
                railed[index] = false
            }
        case .csv:
            assertionFailure("CSV streams have no binary frames")
        }
    }

    // MARK: - Garbage

    /// Skips to the next byte that could start a frame.
    private func skipToNextSync() throws(StreamError) {
        var offset = 1
        while readIndex + offset < writeIndex, buffer[readIndex + offset] != SampleFrame.syncBytes[0] {
            offset += 1
        }
        try skip(offset)
    }

    private func skip(_ count: Int) throws(StreamError) {
        readIndex += count
        skippedByteCount += count
        consecutiveSkippedBytes += count
        if consecutiveSkippedBytes > limits.maxGarbageBytes {
            throw .noValidFrame(skippedBytes: consecutiveSkippedBytes)
        }
    }

    private func compact() {
        let count = bufferedByteCount
        if count > 0 {
            buffer.update(from: buffer + readIndex, count: count)
        }
        readIndex = 0
        writeIndex = count
    }

    // MARK: - Testing

    /// Checks the buffer indices; tests call it after every mutation.
    func testOnly_checkInvariants() {
        precondition(0 <= readIndex && readIndex <= writeIndex && writeIndex <= limits.bufferBytes)
        precondition(consecutiveSkippedBytes <= skippedByteCount)
        precondition(0 <= lineSearchedBytes && lineSearchedBytes <= bufferedByteCount)
    }
}
