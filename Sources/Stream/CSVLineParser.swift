/// Parses one CSV sample line: `leadCount` decimal numbers in millivolts separated by commas.
///
/// Spaces and tabs around a value are allowed. `nan`, `inf` and `-inf` are accepted as non-finite samples
/// (the pipeline replaces and counts them); anything else that is not a number is an error.
enum CSVLineParser {
    /// Longest value text accepted, characters.
    static let maxFieldLength = 64

    /// Parses `line` (without newline) into `values[0..<leadCount]`.
    ///
    /// - Throws: ``StreamError/wrongFrameSize(expectedLeads:actualLeads:)`` if the line has another number of
    ///   values, ``StreamError/badCSVLine(reason:)`` if a value is not a number.
    static func parse(
        _ line: UnsafeBufferPointer<UInt8>,
        leadCount: Int,
        into values: UnsafeMutablePointer<Float>
    )
        throws(StreamError)
    {
        let fieldCount = line.count(where: { $0 == UInt8(ascii: ",") }) + 1
        guard fieldCount == leadCount else {
            throw .wrongFrameSize(expectedLeads: leadCount, actualLeads: fieldCount)
        }
        var fieldStart = 0
        var field = 0
        for index in 0...line.count where index == line.count || line[index] == UInt8(ascii: ",") {
            values[field] = try parseField(UnsafeBufferPointer(rebasing: line[fieldStart..<index]), column: field)
            field += 1
            fieldStart = index + 1
        }
    }

    private static func parseField(_ field: UnsafeBufferPointer<UInt8>, column: Int) throws(StreamError) -> Float {
        var start = 0
        var end = field.count
        while start < end, isBlank(field[start]) { start += 1 }
        while end > start, isBlank(field[end - 1]) { end -= 1 }
        guard start < end else { throw .badCSVLine(reason: "value \(column + 1) is empty") }
        guard end - start <= maxFieldLength else { throw .badCSVLine(reason: "value \(column + 1) is too long") }
        let text = String(decoding: UnsafeBufferPointer(rebasing: field[start..<end]), as: UTF8.self)
        guard isDecimalOrNonFinite(text), let value = Float(text) else {
            throw .badCSVLine(reason: "value \(column + 1) '\(text.escapedForLog)' is not a number")
        }
        return value
    }

    /// Restricts Swift's parser to decimal notation and the three non-finite spellings (no hexadecimal floats).
    private static func isDecimalOrNonFinite(_ text: String) -> Bool {
        switch text.lowercased() {
        case "nan", "inf", "+inf", "-inf": return true
        default:
            return text.utf8.allSatisfy { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "e")
                    || byte == UInt8(ascii: "E")
            }
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }
}
