import Configuration
import Testing
import Yams

@testable import Monitor

/// The file's values as the checked YAML tree gave them, converted to the type a key asks for as YAML reads it.
@Suite struct YAMLValuesProviderTests {
    static func provider(_ values: [String: String]) throws -> YAMLValuesProvider {
        var scalars: [AbsoluteConfigKey: YAMLValuesProvider.Scalar] = [:]
        for (key, text) in values {
            let node = try #require(try Yams.compose(yaml: "value: \(text)")?.mapping?["value"]?.scalar)
            scalars[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = YAMLValuesProvider.Scalar(node)
        }
        return YAMLValuesProvider(providerName: "test.yaml", scalars: scalars)
    }

    @Test func convertsEachScalarToTheTypeAskedFor() throws {
        let provider = try Self.provider([
            "input.max_streams": "0x40", "windows.seconds": "2.5", "input.stdin": "true",
            "input.socket_mode": "\"0660\"",
        ])
        let reader = ConfigReader(provider: provider)
        #expect(try reader.requiredInt(forKey: "input.max_streams") == 64)
        #expect(try reader.requiredDouble(forKey: "windows.seconds") == 2.5)
        #expect(try reader.requiredBool(forKey: "input.stdin"))
        #expect(try reader.requiredString(forKey: "input.socket_mode") == "0660")
        #expect(try reader.requiredString(forKey: "windows.seconds") == "2.5")
        #expect(reader.int(forKey: "input.max_batch") == nil)
    }

    @Test func aValueOfTheWrongTypeIsAnError() throws {
        let provider = try Self.provider(["input.max_streams": "many"])
        #expect(throws: YAMLValuesProvider.NotConvertible.self) {
            try provider.value(forKey: AbsoluteConfigKey(["input", "max_streams"]), type: .int)
        }
    }
}
