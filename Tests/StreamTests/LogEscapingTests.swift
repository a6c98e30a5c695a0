import Testing

@testable import Stream

@Suite struct LogEscapingTests {
    static let forgedLine = "I\n2026-01-01T00:00:00+0000 critical ecg-monitor: FORGED-LINE"

    @Test func turnsAForgedLogLineIntoOneVisibleLine() {
        #expect(Self.forgedLine.escapedForLog == #"I\n2026-01-01T00:00:00+0000 critical ecg-monitor: FORGED-LINE"#)
    }

    @Test(arguments: [
        ("a\rb", #"a\rb"#), ("a\tb", #"a\tb"#), ("a\0b", #"a\0b"#), ("\u{1B}[31mred", #"\u{1B}[31mred"#),
        ("del\u{7F}", #"del\u{7F}"#), ("c1\u{9B}", #"c1\u{9B}"#), ("bidi\u{202E}", #"bidi\u{202E}"#),
        ("zero\u{200B}width", #"zero\u{200B}width"#), ("line\u{2028}sep", #"line\u{2028}sep"#),
        ("nbsp\u{A0}", #"nbsp\u{A0}"#), ("private\u{E000}", #"private\u{E000}"#),
        (#"back\slash"#, #"back\\slash"#), (#"say "hi""#, #"say \"hi\""#), ("it's", #"it\'s"#),
    ])
    func escapesWhatCouldForgeOrHideText(raw: String, escaped: String) {
        #expect(raw.escapedForLog == escaped)
    }

    @Test(arguments: ["V1", "ecg-monitor: 12 leads, 500 Hz", "µV", "Überwachung", "心电图", "a~b{c}"])
    func leavesPrintableTextAlone(text: String) {
        #expect(text.escapedForLog == text)
    }

    @Test func neverLeavesAControlCharacterInAnyScalar() {
        var generator = TestSupport.Generator(seed: 12)
        var text = ""
        for _ in 0..<20_000 {
            let value = UInt32.random(in: 0...0x10_FFFF, using: &generator)
            if let scalar = Unicode.Scalar(value) { text.unicodeScalars.append(scalar) }
        }
        for byte in UInt8.min...UInt8.max { text.unicodeScalars.append(Unicode.Scalar(byte)) }
        let escaped = text.escapedForLog
        #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
    }

    @Test func escapesSubstringsToo() {
        let line = "key: a\nb"
        #expect(line.split(separator: " ")[1].escapedForLog == #"a\nb"#)
    }

    @Test func sinkModeMakesAForgedLineOneLineAndKeepsQuotes() {
        let message = "unknown lead '" + Self.forgedLine + "'"
        #expect(
            message.escapedForLog(quotesAndBackslashes: false)
                == #"unknown lead 'I\n2026-01-01T00:00:00+0000 critical ecg-monitor: FORGED-LINE'"#
        )
    }

    @Test func sinkModeLeavesAnAlreadyEscapedMessageUnchanged() {
        let description = StreamError.unknownLead(name: Self.forgedLine + "\u{1B}[2J\\").description
        #expect(description.escapedForLog(quotesAndBackslashes: false) == description)
        #expect(#"C:\path "quoted" it's"#.escapedForLog(quotesAndBackslashes: false) == #"C:\path "quoted" it's"#)
    }
}
