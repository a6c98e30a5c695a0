extension StringProtocol {
    /// This text with every character that could forge, split, recolour or hide part of a log line, and the
    /// backslash and quotes, written as visible escapes: for embedding text a client chose (header values, lead
    /// names, keys, CSV values, file names) in an error message, usually between quotes.
    ///
    /// The same as ``escapedForLog(quotesAndBackslashes:)`` with `true`.
    public var escapedForLog: String { escapedForLog(quotesAndBackslashes: true) }

    /// This text with every character that could forge, split, recolour or hide part of a log line written as a
    /// visible escape.
    ///
    /// Printable characters pass through, non-ASCII letters and symbols included (`µV`, `Ü`). Escaped:
    /// - newline, carriage return, tab and NUL: `\n`, `\r`, `\t`, `\0`;
    /// - every other control character (C0, DEL, C1), and the invisible or line-breaking scalars a terminal or
    ///   log viewer may act on (format characters such as bidirectional overrides and zero-width spaces, line and
    ///   paragraph separators, spaces other than U+0020, private-use, surrogate and unassigned code points):
    ///   `\u{1B}`, `\u{202E}` (hexadecimal, upper case);
    /// - with `quotesAndBackslashes`, the backslash and both quotes: `\\`, `\"`, `\'`, so that escaped text
    ///   reads unambiguously between quotes.
    ///
    /// The result holds no byte below 0x20 and no DEL, so it never ends or splits a line in any log sink.
    ///
    /// - Parameter quotesAndBackslashes: `true` where client text is embedded in a message; `false` in a log
    ///   sink making a whole message or metadata value safe: text without control or invisible characters then
    ///   comes back unchanged, so a message whose client text was escaped where it was embedded is not escaped
    ///   twice.
    public func escapedForLog(quotesAndBackslashes: Bool) -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            switch scalar {
            case "\\" where quotesAndBackslashes: result += "\\\\"
            case "\"" where quotesAndBackslashes: result += "\\\""
            case "'" where quotesAndBackslashes: result += "\\'"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\0": result += "\\0"
            case " "..."~": result.unicodeScalars.append(scalar)
            default:
                if Self.isVisible(scalar) {
                    result.unicodeScalars.append(scalar)
                } else {
                    result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                }
            }
        }
        return result
    }

    /// Whether a non-ASCII scalar shows as itself: letters, marks, numbers, punctuation and symbols.
    private static func isVisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .privateUse, .surrogate,
            .unassigned:
            false
        default:
            true
        }
    }
}
