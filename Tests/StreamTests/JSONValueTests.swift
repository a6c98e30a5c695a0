import Testing

@testable import Stream

@Suite struct JSONValueTests {
    @Test func parsesNestedDocument() throws {
        let text = #" { "a": [1, -2.5e1, true, false, null], "b": {"c": "d\u00e9\n\"q\""} } "#
        let value = try JSONValue.parse(Array(text.utf8))
        let expected = JSONValue.object([
            ("a", .array([.number(1), .number(-25), .bool(true), .bool(false), .null])),
            ("b", .object([("c", .string("dé\n\"q\""))])),
        ])
        #expect(value == expected)
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONValue.parse(Array(#""\ud83d\udc93""#.utf8)) == .string("💓"))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"abc", "\"\\x\"", "\"\\ud800\"", "[1] 2", "1e999",
        "{\"a\":1,}", "\"tab\tinside\"",
    ])
    func refusesMalformedText(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func refusesNestingDeeperThanTheLimit() {
        let deep = String(repeating: "[", count: 20) + String(repeating: "]", count: 20)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(deep.utf8), maxDepth: 16) }
        #expect(throws: Never.self) { try JSONValue.parse(Array(deep.utf8), maxDepth: 20) }
    }

    @Test func errorNamesTheOffset() {
        #expect {
            try JSONValue.parse(Array("[1, x]".utf8))
        } throws: { error in
            (error as? JSONParseError)?.offset == 4
        }
    }

    @Test func serializationRoundTrips() throws {
        let value = JSONValue.object([
            ("id", .string("a\"b\\c\u{01}")), ("n", .number(500)), ("f", .number(0.25)),
            ("l", .array([.bool(true), .null])),
        ])
        let text = value.serialized
        #expect(text == #"{"id":"a\"b\\c\u0001","n":500,"f":0.25,"l":[true,null]}"#)
        #expect(try JSONValue.parse(Array(text.utf8)) == value)
    }
}
