extension StringProtocol {
    /// This text with every character that could forge, split, recolour or hide part of a log line written as a
    /// visible escape, for embedding text a client chose (header values, lead names, keys, CSV values, file names)
    /// in an error message or a log line.
    ///
    /// Printable characters pass through, non-ASCII letters and symbols included (`µV`, `Ü`). Escaped:
    /// - the backslash and both quotes: `\\`, `\"`, `\'`, so escaped text can be quoted unambiguously;
    /// - newline, carriage return, tab and NUL: `\n`, `\r`, `\t`, `\0`;
    /// - every other control character (C0, DEL, C1), and the invisible or line-breaking scalars a terminal or
    ///   log viewer may act on (format characters such as bidirectional overrides and zero-width spaces, line and
    ///   paragraph separators, spaces other than U+0020, private-use, surrogate and unassigned code points):
    ///   `\u{1B}`, `\u{202E}` (hexadecimal, upper case).
    ///
    /// The result holds no byte below 0x20 and no DEL, so it never ends or splits a line in any log sink.
    public var escapedForLog: String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "'": result += "\\'"
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
