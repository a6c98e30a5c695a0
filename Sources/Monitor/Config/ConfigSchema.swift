import Configuration
import Yams

/// The configuration keys the daemon knows, and the check of a file's keys and of `ECG_MONITOR_` variables
/// against them.
///
/// swift-configuration looks values up by key but cannot list what a file holds, so unknown keys are found
/// here by walking the YAML tree; each one is reported with its line.
enum ConfigSchema {
    /// Prefix of the environment variables that override keys.
    static let environmentPrefix = "ECG_MONITOR_"

    /// Keys holding one value, dotted: those of ``Config/keys``.
    static let scalarKeys = Set(Config.keys.map(\.name))

    /// Keys holding a mapping from class code to one value.
    static let classMapKeys: Set<String> = ["alarms.classes", "alarms.thresholds"]

    /// What a checked file holds.
    struct FileLayout {
        /// The class codes the file lists under each of ``classMapKeys``; a key the file lacks is absent.
        var classCodes: [String: [String]] = [:]
        /// Every value of the file under its full key (`input.max_streams`, `alarms.classes.AFIB`).
        var scalars: [AbsoluteConfigKey: YAMLValuesProvider.Scalar] = [:]
    }

    /// Checks that every key in `yaml` is known and has the right shape.
    ///
    /// - Returns: the file's values and the class codes it lists under each class map key.
    /// - Throws: ``DaemonError/configSyntax(path:reason:)``, ``DaemonError/unknownConfigKey(key:path:line:)`` or
    ///   ``DaemonError/badConfigValue(key:value:expected:)`` for a section or map given a single value.
    static func checkFile(yaml: String, path: String) throws(DaemonError) -> FileLayout {
        let root: Node?
        do {
            root = try Parser(yaml: yaml).singleRoot()
        } catch {
            throw .configSyntax(path: path, reason: "\(error)")
        }
        var layout = FileLayout()
        guard let root, !isNull(root) else { return layout }
        guard let mapping = root.mapping else {
            throw .configSyntax(path: path, reason: "the top level is not a mapping of sections")
        }
        try walk(mapping, prefix: [], path: path, layout: &layout)
        return layout
    }

    private static func walk(
        _ mapping: Node.Mapping,
        prefix: [String],
        path: String,
        layout: inout FileLayout
    ) throws(DaemonError) {
        for (keyNode, value) in mapping {
            let line = keyNode.mark?.line ?? 0
            guard let name = keyNode.scalar?.string else {
                throw .configSyntax(path: path, reason: "line \(line): a key is not a plain name")
            }
            let components = prefix + [name]
            let key = components.joined(separator: ".")
            if scalarKeys.contains(key) {
                guard let scalar = value.scalar, !isNull(value) else {
                    throw .badConfigValue(key: key, value: describe(value), expected: "a single value")
                }
                layout.scalars[AbsoluteConfigKey(components)] = YAMLValuesProvider.Scalar(scalar)
            } else if classMapKeys.contains(key) {
                var codes: [String] = []
                for (code, scalar) in try classEntries(in: value, key: key) {
                    codes.append(code)
                    layout.scalars[AbsoluteConfigKey(components + [code])] = YAMLValuesProvider.Scalar(scalar)
                }
                layout.classCodes[key] = codes
            } else if isSection(components) {
                if isNull(value) { continue }
                guard let section = value.mapping else {
                    throw .badConfigValue(key: key, value: describe(value), expected: "a section of keys")
                }
                try walk(section, prefix: components, path: path, layout: &layout)
            } else {
                throw .unknownConfigKey(key: key, path: path, line: line)
            }
        }
    }

    private static func classEntries(in value: Node, key: String) throws(DaemonError) -> [(String, Node.Scalar)] {
        if isNull(value) { return [] }
        guard let mapping = value.mapping else {
            throw .badConfigValue(key: key, value: describe(value), expected: "a mapping from class code to value")
        }
        var entries: [(String, Node.Scalar)] = []
        for (codeNode, entry) in mapping {
            guard let code = codeNode.scalar?.string, !code.isEmpty else {
                throw .badConfigValue(key: key, value: describe(codeNode), expected: "a class code")
            }
            guard let scalar = entry.scalar, !isNull(entry) else {
                throw .badConfigValue(key: "\(key).\(code)", value: describe(entry), expected: "a single value")
            }
            entries.append((code, scalar))
        }
        return entries
    }

    /// Whether `components` is a proper prefix of a known key (a section).
    private static func isSection(_ components: [String]) -> Bool {
        let prefix = components.joined(separator: ".") + "."
        return scalarKeys.contains { $0.hasPrefix(prefix) } || classMapKeys.contains { $0.hasPrefix(prefix) }
    }

    private static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): scalar.string
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    // MARK: - Environment

    /// The environment variable that overrides `components`: the prefix, then the components in upper case with
    /// every character other than a letter or digit as `_`, joined by `_` (swift-configuration's encoding).
    static func environmentName(_ components: [String]) -> String {
        let encoded = components.map { component in
            String(
                component.uppercased().map { character -> Character in
                    character.isASCII && (character.isLetter || character.isNumber) ? character : "_"
                }
            )
        }
        return environmentPrefix + encoded.joined(separator: "_")
    }

    /// Rejects `ECG_MONITOR_` variables that name no key, given the class codes that may be overridden.
    ///
    /// - Throws: ``DaemonError/unknownEnvironmentVariable(name:)`` for the first such variable, sorted by name.
    static func checkEnvironment(_ names: some Sequence<String>, classCodes: [String: [String]]) throws(DaemonError) {
        var known = Set(scalarKeys.map { environmentName($0.split(separator: ".").map(String.init)) })
        for (mapKey, codes) in classCodes {
            let base = mapKey.split(separator: ".").map(String.init)
            for code in codes {
                known.insert(environmentName(base + [code]))
            }
        }
        if let unknown = names.filter({ $0.hasPrefix(environmentPrefix) && !known.contains($0) }).sorted().first {
            throw .unknownEnvironmentVariable(name: unknown)
        }
    }
}
