import Configuration
import Yams

/// A configuration file's values, taken from the YAML tree that ``ConfigSchema`` walked to check its keys, so the
/// file is read and parsed once (and a file replaced between a check and a second read cannot slip through).
///
/// A scalar is converted to the type asked for as YAML reads it (`Int.construct(from:)` and its siblings), as
/// swift-configuration's own YAML snapshot does.
struct YAMLValuesProvider: ConfigProvider, ConfigSnapshot {
    /// One scalar of the file: its text and what YAML reads it as, for each type a key may need.
    struct Scalar: Sendable, Equatable {
        var text: String
        var int: Int?
        var double: Double?
        var bool: Bool?

        init(_ scalar: Node.Scalar) {
            text = scalar.string
            int = Int.construct(from: scalar)
            double = Double.construct(from: scalar)
            bool = Bool.construct(from: scalar)
        }
    }

    /// A value of the file that is not of the type its key needs; reported by ``ConfigValues`` with the raw text.
    struct NotConvertible: Error {
        var key: String
        var type: ConfigType
    }

    let providerName: String
    /// Every scalar of the file under its full key.
    let scalars: [AbsoluteConfigKey: Scalar]

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        let encodedKey = key.components.joined(separator: ".")
        guard let scalar = scalars[key] else { return LookupResult(encodedKey: encodedKey, value: nil) }
        let content: ConfigContent? =
            switch type {
            case .string: .string(scalar.text)
            case .int: scalar.int.map { .int($0) }
            case .double: scalar.double.map { .double($0) }
            case .bool: scalar.bool.map { .bool($0) }
            default: nil
            }
        guard let content else { throw NotConvertible(key: encodedKey, type: type) }
        return LookupResult(encodedKey: encodedKey, value: ConfigValue(content, isSecret: false))
    }

    nonisolated(nonsending) func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws
        -> LookupResult
    {
        try value(forKey: key, type: type)
    }

    nonisolated(nonsending) func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey,
        type: ConfigType,
        updatesHandler:
            nonisolated(nonsending) (
                _ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>
            ) async throws -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    func snapshot() -> any ConfigSnapshot {
        self
    }

    nonisolated(nonsending) func watchSnapshot<Return: ~Copyable>(
        updatesHandler:
            nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws ->
            Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}
