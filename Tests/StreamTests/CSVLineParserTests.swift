import Testing

@testable import Stream

@Suite struct CSVLineParserTests {
    private func parse(_ text: String, leads: Int) throws(StreamError) -> [Float] {
        var values = [Float](repeating: 0, count: leads)
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBufferPointer { line throws(StreamError) in
            try values.withUnsafeMutableBufferPointer { output throws(StreamError) in
                try CSVLineParser.parse(line, leadCount: leads, into: output.baseAddress!)
            }
        }
        return values
    }

    @Test func parsesValuesWithBlanksAndExponents() throws {
        #expect(try parse(" 0.5,\t-1.25e-1 ,3", leads: 3) == [0.5, -0.125, 3])
    }

    @Test func acceptsNonFiniteSpellings() throws {
        let values = try parse("nan,inf,-inf", leads: 3)
        #expect(values[0].isNaN && values[1] == .infinity && values[2] == -.infinity)
    }

    @Test func wrongValueCountIsAWrongFrameSize() {
        #expect(throws: StreamError.wrongFrameSize(expectedLeads: 3, actualLeads: 2)) { try parse("1,2", leads: 3) }
    }

    @Test(arguments: ["1,,3", "1,abc,3", "1,0x1p3,3", "1, ,3"])
    func refusesValuesThatAreNotNumbers(_ line: String) {
        #expect {
            try parse(line, leads: 3)
        } throws: { error in
            guard case .badCSVLine(let reason) = error as? StreamError else { return false }
            return reason.contains("value 2")
        }
    }

    @Test func escapesTheValueItQuotes() {
        let error = #expect(throws: StreamError.self) { try parse("1,\u{1B}[2J\r,3", leads: 3) }
        #expect(error == .badCSVLine(reason: #"value 2 '\u{1B}[2J\r' is not a number"#))
    }
}
