/// Why a stream was refused or closed, or why a record or configuration could not be used.
///
/// Every case names the problem in terms a producer can act on; ``code`` is a stable machine-readable
/// token for the JSON error line of the protocol (docs/protocol.md).
///
/// Text that came from a client or a file (names, keys, values, paths) is embedded in ``description`` escaped
/// (``Swift/StringProtocol/escapedForLog``), so a description is always one line that a client cannot forge log
/// lines with. The `reason` strings are built that way where they are made; the other associated values hold
/// the raw text, for callers that compare it, and are escaped by ``description``.
public enum StreamError: Error, Equatable, CustomStringConvertible {
    /// The first line of the stream is not a valid header.
    case badHeader(reason: String)
    /// A header or CSV line is longer than the configured limit.
    case lineTooLong(limitBytes: Int)
    /// The header names a lead that is not one of the 12 standard leads.
    case unknownLead(name: String)
    /// The header names the same lead twice (names compare case-insensitively).
    case duplicateLead(name: String)
    /// A lead the model needs is neither sent nor derivable from the leads sent.
    case missingLead(name: String)
    /// A frame carries a different number of leads, or a different sample format, than the header announced.
    case wrongFrameSize(expectedLeads: Int, actualLeads: Int)
    /// A binary frame announces a sample format other than the header's.
    case wrongFrameFormat(expected: String, actual: String)
    /// A binary frame announces more samples than the configured per-frame limit.
    case frameTooLarge(samples: Int, limitSamples: Int)
    /// No valid frame was found in this many bytes; the producer is not speaking the protocol.
    case noValidFrame(skippedBytes: Int)
    /// A frame's first sample index skips further ahead than the allowed gap, or goes backwards.
    case sampleGap(expectedIndex: UInt32, receivedIndex: UInt32)
    /// A CSV line is not a list of numbers.
    case badCSVLine(reason: String)
    /// The connection ended in the middle of a line or frame.
    case truncatedStream(bufferedBytes: Int)
    /// No bytes arrived for longer than the configured idle time.
    case idleTimeout(seconds: Double)
    /// The header line was not complete within the configured time after connecting.
    case headerTimeout(seconds: Double)
    /// The stream was refused by the service (limits, duplicate stream id).
    case refused(reason: String)
    /// A configuration value is out of range or inconsistent.
    case badConfiguration(reason: String)
    /// A WFDB record could not be read.
    case badRecord(path: String, reason: String)
    /// A system call on a file failed.
    case fileError(path: String, operation: String, errno: Int32)

    /// A short, stable, snake_case token naming the kind of error, for the protocol's JSON error line.
    public var code: String {
        switch self {
        case .badHeader: "bad_header"
        case .lineTooLong: "line_too_long"
        case .unknownLead: "unknown_lead"
        case .duplicateLead: "duplicate_lead"
        case .missingLead: "missing_lead"
        case .wrongFrameSize: "wrong_frame_size"
        case .wrongFrameFormat: "wrong_frame_format"
        case .frameTooLarge: "frame_too_large"
        case .noValidFrame: "no_valid_frame"
        case .sampleGap: "sample_gap"
        case .badCSVLine: "bad_csv_line"
        case .truncatedStream: "truncated_stream"
        case .idleTimeout: "idle_timeout"
        case .headerTimeout: "header_timeout"
        case .refused: "refused"
        case .badConfiguration: "bad_configuration"
        case .badRecord: "bad_record"
        case .fileError: "file_error"
        }
    }

    public var description: String {
        switch self {
        case .badHeader(let reason):
            "bad stream header: \(reason)"
        case .lineTooLong(let limitBytes):
            "line longer than the limit of \(limitBytes) bytes"
        case .unknownLead(let name):
            "unknown lead '\(name.escapedForLog)' (expected I, II, III, aVR, aVL, aVF, V1-V6)"
        case .duplicateLead(let name):
            "lead '\(name.escapedForLog)' is named twice"
        case .missingLead(let name):
            "lead '\(name.escapedForLog)' is missing and cannot be derived from the leads sent"
        case .wrongFrameSize(let expectedLeads, let actualLeads):
            "wrong frame size: \(actualLeads) leads in a frame, the header announced \(expectedLeads)"
        case .wrongFrameFormat(let expected, let actual):
            "wrong frame format: \(actual), the header announced \(expected)"
        case .frameTooLarge(let samples, let limitSamples):
            "frame of \(samples) samples per lead exceeds the limit of \(limitSamples)"
        case .noValidFrame(let skippedBytes):
            "no valid frame in \(skippedBytes) bytes"
        case .sampleGap(let expectedIndex, let receivedIndex):
            "frame starts at sample \(receivedIndex), expected \(expectedIndex)"
        case .badCSVLine(let reason):
            "bad CSV line: \(reason)"
        case .truncatedStream(let bufferedBytes):
            "stream ended inside a frame (\(bufferedBytes) bytes of an incomplete frame or line)"
        case .idleTimeout(let seconds):
            "no data for \(seconds) s"
        case .headerTimeout(let seconds):
            "no complete header line within \(seconds) s of connecting"
        case .refused(let reason):
            "stream refused: \(reason)"
        case .badConfiguration(let reason):
            "bad stream configuration: \(reason)"
        case .badRecord(let path, let reason):
            "cannot read WFDB record \(path.escapedForLog): \(reason)"
        case .fileError(let path, let operation, let errno):
            "\(operation) \(path.escapedForLog) failed with errno \(errno)"
        }
    }
}
