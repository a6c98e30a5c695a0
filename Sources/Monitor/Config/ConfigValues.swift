import Configuration

/// Typed, range-checked reads from a ``ConfigReader`` whose last provider holds every default.
///
/// Every read is a `required…` one: with the defaults underneath, a lookup only fails on a value of the wrong
/// type, which is then reported as ``DaemonError/badConfigValue(key:value:expected:)`` with the raw text.
struct ConfigValues {
    let reader: ConfigReader

    func string(_ key: String, components: [String]? = nil, nonEmpty: Bool = false) throws(DaemonError) -> String {
        let configKey = configKey(key, components)
        let text: String
        do {
            text = try reader.requiredString(forKey: configKey)
        } catch {
            throw .badConfigValue(key: key, value: "a value that is not text", expected: "text")
        }
        if nonEmpty && text.allSatisfy(\.isWhitespace) {
            throw .badConfigValue(key: key, value: text, expected: "a non-empty value")
        }
        return text
    }

    func int(_ key: String, _ range: ClosedRange<Int>) throws(DaemonError) -> Int {
        let value: Int
        do {
            value = try reader.requiredInt(forKey: configKey(key, nil))
        } catch {
            throw .badConfigValue(key: key, value: raw(key, nil), expected: "an integer")
        }
        guard range.contains(value) else {
            throw .badConfigValue(key: key, value: "\(value)", expected: "an integer in \(range)")
        }
        return value
    }

    func double(
        _ key: String,
        components: [String]? = nil,
        _ range: ClosedRange<Double>
    ) throws(DaemonError)
        -> Double
    {
        let value: Double
        do {
            value = try reader.requiredDouble(forKey: configKey(key, components))
        } catch {
            throw .badConfigValue(key: key, value: raw(key, components), expected: "a number")
        }
        guard value.isFinite, range.contains(value) else {
            throw .badConfigValue(key: key, value: "\(value)", expected: "a number in \(range)")
        }
        return value
    }

    func bool(_ key: String) throws(DaemonError) -> Bool {
        do {
            return try reader.requiredBool(forKey: configKey(key, nil))
        } catch {
            throw .badConfigValue(key: key, value: raw(key, nil), expected: "true or false")
        }
    }

    func choice<Choice: RawRepresentable<String> & CaseIterable>(_ key: String) throws(DaemonError) -> Choice {
        let text = try string(key)
        guard let choice = Choice(rawValue: text) else {
            let names = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw .badConfigValue(key: key, value: text, expected: "one of \(names)")
        }
        return choice
    }

    /// Permission bits written in octal, e.g. `"0660"`.
    func octalMode(_ key: String) throws(DaemonError) -> UInt32 {
        let text = try string(key)
        guard let mode = UInt32(text, radix: 8), mode <= 0o777 else {
            throw .badConfigValue(key: key, value: text, expected: "octal permission bits such as 0660")
        }
        return mode
    }

    /// A path that fits `sockaddr_un.sun_path` (107 bytes and a terminating NUL).
    func socketPath(_ key: String) throws(DaemonError) -> String {
        let path = try string(key, nonEmpty: true)
        guard path.utf8.count <= 107 else {
            throw .badConfigValue(key: key, value: path, expected: "a socket path of at most 107 bytes")
        }
        return path
    }

    private func configKey(_ key: String, _ components: [String]?) -> ConfigKey {
        ConfigKey(components ?? key.split(separator: ".").map(String.init))
    }

    /// The value as text, for error messages; a value that is not even text is described as such.
    private func raw(_ key: String, _ components: [String]?) -> String {
        (try? reader.requiredString(forKey: configKey(key, components))) ?? "a value that is not text"
    }
}
