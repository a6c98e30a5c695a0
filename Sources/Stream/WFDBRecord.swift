/// A WFDB record read into memory: header plus every signal's digital samples.
///
/// Reads formats 16 and 212 from one or more signal files, with a byte offset (MAT v4 `.mat` files of the
/// PhysioNet/CinC Challenge, format `16+24`). Invalid samples (WFDB's −32768 in format 16, −2048 in format
/// 212) are stored as `Int16.min`, the rail, so a replayed stream flags them as saturated.
public struct WFDBRecord: Sendable {
    /// The parsed header.
    public let header: WFDBHeader
    /// Digital samples `[signal][sample]`, in header order.
    public let samples: [[Int16]]

    /// Samples per signal.
    public var sampleCount: Int { samples.first?.count ?? 0 }

    /// Reads a record named by its `.hea` path or by that path without the extension.
    ///
    /// Signal files are read only from the header's directory or below it: a header naming an absolute path, a
    /// `..` component, or a symbolic link that resolves outside that directory is refused, so a record cannot
    /// make the reader open (and replay) an arbitrary file.
    ///
    /// - Throws: ``StreamError/badRecord(path:reason:)`` or ``StreamError/fileError(path:operation:errno:)``.
    public static func read(path: String) throws(StreamError) -> WFDBRecord {
        let base = path.hasSuffix(".hea") ? String(path.dropLast(4)) : path
        let headerPath = base + ".hea"
        guard FileBytes.exists(path: headerPath) else {
            throw .badRecord(path: path, reason: "no header file \(headerPath)")
        }
        let headerBytes = try FileBytes.read(path: headerPath)
        guard let text = String(validating: headerBytes, as: UTF8.self) else {
            throw .badRecord(path: headerPath, reason: "header is not UTF-8 text")
        }
        let header = try WFDBHeader.parse(text, path: headerPath)
        let directory = base.contains("/") ? String(base[...(base.lastIndex(of: "/") ?? base.startIndex)]) : ""
        let resolvedDirectory = try FileBytes.resolvedPath(directory.isEmpty ? "." : directory)
        return try decode(header: header, headerPath: headerPath) { fileName throws(StreamError) in
            let filePath = directory + fileName
            let resolved = try FileBytes.resolvedPath(filePath)
            guard resolved.hasPrefix(resolvedDirectory.hasSuffix("/") ? resolvedDirectory : resolvedDirectory + "/")
            else {
                throw .badRecord(
                    path: headerPath,
                    reason: "signal file \(fileName.escapedForLog) resolves to \(resolved.escapedForLog), "
                        + "outside the record's directory"
                )
            }
            return (filePath, try FileBytes.read(path: resolved))
        }
    }

    /// Decodes the samples of the record `header` describes from the bytes of its signal files.
    ///
    /// - Parameters:
    ///   - header: the parsed header.
    ///   - headerPath: the header's path, for messages.
    ///   - signalFile: the path (for messages) and contents of the signal file a signal line names; called once
    ///     per distinct file, in header order.
    /// - Throws: ``StreamError/badRecord(path:reason:)``, or what `signalFile` throws.
    static func decode(
        header: WFDBHeader,
        headerPath: String,
        signalFile: (String) throws(StreamError) -> (path: String, bytes: [UInt8])
    ) throws(StreamError) -> WFDBRecord {
        var samples = [[Int16]](repeating: [], count: header.signals.count)
        var fileOrder: [String] = []
        for signal in header.signals where !fileOrder.contains(signal.fileName) {
            fileOrder.append(signal.fileName)
        }
        var sampleCount = header.sampleCount
        for fileName in fileOrder {
            let members = header.signals.indices.filter { header.signals[$0].fileName == fileName }
            let first = header.signals[members[0]]
            guard
                members.allSatisfy({
                    header.signals[$0].format == first.format && header.signals[$0].byteOffset == first.byteOffset
                })
            else {
                throw .badRecord(
                    path: headerPath,
                    reason: "signals of \(fileName.escapedForLog) differ in format or offset"
                )
            }
            let (filePath, bytes) = try signalFile(fileName)
            guard bytes.count >= first.byteOffset else {
                throw .badRecord(path: filePath, reason: "file is shorter than its byte offset \(first.byteOffset)")
            }
            let payload = bytes[first.byteOffset...]
            let decoded: [[Int16]]
            switch first.format {
            case 16: decoded = decodeFormat16(payload, signalCount: members.count)
            default: decoded = decodeFormat212(payload, signalCount: members.count)
            }
            let available = decoded[0].count
            let count = sampleCount ?? available
            guard available >= count else {
                throw .badRecord(
                    path: filePath,
                    reason: "file holds \(available) samples per signal, header says \(count)"
                )
            }
            sampleCount = count
            for (column, signal) in members.enumerated() {
                samples[signal] = Array(decoded[column].prefix(count))
            }
        }
        return WFDBRecord(header: header, samples: samples)
    }

    /// Interleaved 16-bit little-endian two's complement; −32768 marks an invalid sample.
    static func decodeFormat16(_ bytes: ArraySlice<UInt8>, signalCount: Int) -> [[Int16]] {
        let frames = bytes.count / (2 * signalCount)
        var signals = [[Int16]](repeating: [Int16](repeating: 0, count: frames), count: signalCount)
        var index = bytes.startIndex
        for frame in 0..<frames {
            for signal in 0..<signalCount {
                signals[signal][frame] = Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8)
                index += 2
            }
        }
        return signals
    }

    /// Pairs of 12-bit two's complement samples in 3 bytes: s0 = b0 | (b1 & 0x0F) << 8,
    /// s1 = b2 | (b1 & 0xF0) << 4, over the file's interleaved sample sequence; −2048 marks an invalid sample.
    static func decodeFormat212(_ bytes: ArraySlice<UInt8>, signalCount: Int) -> [[Int16]] {
        let totalSamples = bytes.count / 3 * 2 + (bytes.count % 3 >= 2 ? 1 : 0)
        let frames = totalSamples / signalCount
        var signals = [[Int16]](repeating: [Int16](repeating: 0, count: frames), count: signalCount)
        for sequence in 0..<(frames * signalCount) {
            let group = bytes.startIndex + sequence / 2 * 3
            let raw: Int
            if sequence % 2 == 0 {
                raw = Int(bytes[group]) | Int(bytes[group + 1] & 0x0F) << 8
            } else {
                raw = Int(bytes[group + 2]) | Int(bytes[group + 1] & 0xF0) << 4
            }
            let value = raw >= 2048 ? raw - 4096 : raw
            signals[sequence % signalCount][sequence / signalCount] = value == -2048 ? Int16.min : Int16(value)
        }
        return signals
    }

    /// One signal in millivolts; invalid samples (at `Int16.min`) become NaN.
    public func millivolts(signal: Int) -> [Float] {
        let info = header.signals[signal]
        return samples[signal].map { value in
            value == Int16.min ? Float.nan : Float((Double(value) - info.baseline) / info.gainPerMillivolt)
        }
    }

    /// Every signal in millivolts, interleaved `[sample][signal]` as a stream's frames arrive; invalid samples are
    /// NaN.
    public func interleavedMillivolts() -> [Float] {
        let signalCount = header.signals.count
        var frames = [Float](repeating: 0, count: sampleCount * signalCount)
        for signal in 0..<signalCount {
            for (sample, value) in millivolts(signal: signal).enumerated() {
                frames[sample * signalCount + signal] = value
            }
        }
        return frames
    }
}
