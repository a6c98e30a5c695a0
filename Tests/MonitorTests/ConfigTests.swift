import Alarms
import Foundation
import Testing

@testable import Monitor

/// Writes `yaml` to a new temporary file, loads it with `environment`, and removes the file.
func loadConfig(_ yaml: String?, environment: [String: String] = [:]) async throws -> Config {
    guard let yaml else { return try await Config.load(filePath: nil, environment: environment) }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-monitor-\(UUID()).yaml").path
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await Config.load(filePath: path, environment: environment)
}

/// Expects loading to fail with `expected`, where `path` in the error is replaced by `"FILE"`.
func expectConfigError(
    _ yaml: String,
    environment: [String: String] = [:],
    _ expected: DaemonError,
    sourceLocation: SourceLocation = #_sourceLocation
) async {
    do {
        let config = try await loadConfig(yaml, environment: environment)
        Issue.record("loaded \(config) instead of failing with \(expected)", sourceLocation: sourceLocation)
    } catch let error as DaemonError {
        var found = error
        if case .unknownConfigKey(let key, _, let line) = error {
            found = .unknownConfigKey(key: key, path: "FILE", line: line)
        }
        #expect(found == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct ConfigTests {
    static let shippedFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/ecg-monitor.yaml").path

    @Test func shippedFileHoldsExactlyTheDefaults() async throws {
        let config = try await Config.load(filePath: Self.shippedFile, environment: [:])
        #expect(config == Config.defaults)
    }

    @Test func shippedFileListsEveryKey() throws {
        let text = try String(contentsOfFile: Self.shippedFile, encoding: .utf8)
        let layout = try ConfigSchema.checkFile(yaml: text, path: Self.shippedFile)
        #expect(Set(layout.classCodes.keys) == ConfigSchema.classMapKeys)
        for key in ConfigSchema.scalarKeys {
            let name = key.split(separator: ".").last.map(String.init) ?? key
            #expect(text.contains("\n  \(name): "), "config/ecg-monitor.yaml lacks \(key)")
        }
    }

    @Test func noFileGivesTheDefaults() async throws {
        #expect(try await loadConfig(nil) == Config.defaults)
        #expect(try await loadConfig("") == Config.defaults)
    }

    @Test func fileValuesReplaceDefaults() async throws {
        let config = try await loadConfig(
            """
            input:
              socket_mode: "0600"
              stdin: yes
            windows:
              seconds: 5
            alarms:
              confirm_count: 4
              classes:
                PVC: high
                AFIB: "off"
              thresholds:
                PVC: 0.35
            """
        )
        var expected = Config.defaults
        expected.input.socketMode = 0o600
        expected.input.stdin = true
        expected.windows.seconds = 5
        expected.alarms.confirmCount = 4
        expected.alarms.classes = ["PVC": .high]
        expected.alarms.thresholds = ["PVC": 0.35]
        #expect(config == expected)
    }

    @Test func unknownKeysAreNamedWithTheirLine() async {
        await expectConfigError(
            "alarms:\n  span_seconds: 10\n  confirm_cout: 3\n",
            .unknownConfigKey(key: "alarms.confirm_cout", path: "FILE", line: 3)
        )
        await expectConfigError("alert:\n  output: json\n", .unknownConfigKey(key: "alert", path: "FILE", line: 1))
        await expectConfigError(
            "model:\n  path:\n    deep: x\n",
            .badConfigValue(key: "model.path", value: "a mapping", expected: "a single value")
        )
    }

    @Test func badValuesAreNamedWithTheirKey() async {
        await expectConfigError(
            "alarms:\n  confirm_count: three\n",
            .badConfigValue(key: "alarms.confirm_count", value: "three", expected: "an integer")
        )
        await expectConfigError(
            "alarms:\n  confirm_count: 0\n",
            .badConfigValue(key: "alarms.confirm_count", value: "0", expected: "an integer in 1...1000")
        )
        await expectConfigError(
            "windows:\n  hop_seconds: 5\n",
            .badConfigValue(key: "windows.hop_seconds", value: "5.0", expected: "a number in 0.01...2.5")
        )
        await expectConfigError(
            "alerts:\n  output: syslog\n",
            .badConfigValue(key: "alerts.output", value: "syslog", expected: "one of journal, json, both")
        )
        await expectConfigError(
            "alarms:\n  classes:\n    AFIB: urgent\n",
            .badConfigValue(key: "alarms.classes.AFIB", value: "urgent", expected: "one of high, medium, low, off")
        )
        await expectConfigError(
            "alarms:\n  thresholds:\n    AFIB: 1.5\n",
            .badConfigValue(key: "alarms.thresholds.AFIB", value: "1.5", expected: "a number in 0.001...1.0")
        )
        await expectConfigError(
            "input:\n  socket_mode: \"0999\"\n",
            .badConfigValue(key: "input.socket_mode", value: "0999", expected: "octal permission bits such as 0660")
        )
        await expectConfigError(
            "alarms:\n  classes: [AFIB]\n",
            .badConfigValue(key: "alarms.classes", value: "a list", expected: "a mapping from class code to value")
        )
    }

    @Test func malformedOrMissingFilesAreReported() async throws {
        await #expect {
            try await loadConfig("alarms:\n  confirm_count: [1\n")
        } throws: { error in
            guard case .configSyntax = error as? DaemonError else { return false }
            return true
        }
        await #expect(
            throws: DaemonError.configSyntax(path: "FILE", reason: "the top level is not a mapping of sections")
        ) {
            do {
                _ = try await loadConfig("- a\n- b\n")
            } catch .configSyntax(_, let reason) as DaemonError {
                throw DaemonError.configSyntax(path: "FILE", reason: reason)
            }
        }
        await #expect {
            try await Config.load(filePath: "/nonexistent/ecg-monitor.yaml", environment: [:])
        } throws: { error in
            guard case .configFileUnreadable(let path, _) = error as? DaemonError else { return false }
            return path == "/nonexistent/ecg-monitor.yaml"
        }
    }

    @Test func environmentOverridesFileAndDefaults() async throws {
        let config = try await loadConfig(
            "alarms:\n  confirm_count: 4\n",
            environment: [
                "ECG_MONITOR_ALARMS_CONFIRM_COUNT": "6",
                "ECG_MONITOR_ALERTS_OUTPUT": "both",
                "ECG_MONITOR_INPUT_STALL_SECONDS": "2.5",
                "HOME": "/root",
            ]
        )
        #expect(config.alarms.confirmCount == 6)
        #expect(config.alerts.output == .both)
        #expect(config.input.stallSeconds == 2.5)
    }

    @Test func environmentOverridesEntriesOfListedClasses() async throws {
        let config = try await loadConfig(
            "alarms:\n  classes:\n    AFIB: medium\n    LAO/LAE: low\n    PRC(S): low\n",
            environment: [
                "ECG_MONITOR_ALARMS_CLASSES_AFIB": "off",
                "ECG_MONITOR_ALARMS_CLASSES_LAO_LAE": "high",
                "ECG_MONITOR_ALARMS_THRESHOLDS_PRC_S_": "0.3",
            ]
        )
        #expect(config.alarms.classes == ["LAO/LAE": .high, "PRC(S)": .low])
        #expect(config.alarms.thresholds == ["PRC(S)": 0.3])
    }

    @Test func unknownOrBadEnvironmentVariablesAreNamed() async {
        await expectConfigError(
            "",
            environment: ["ECG_MONITOR_ALARMS_CONFIRMCOUNT": "3"],
            .unknownEnvironmentVariable(name: "ECG_MONITOR_ALARMS_CONFIRMCOUNT")
        )
        await expectConfigError(
            "alarms:\n  classes:\n    AFIB: medium\n",
            environment: ["ECG_MONITOR_ALARMS_CLASSES_PVC": "low"],
            .unknownEnvironmentVariable(name: "ECG_MONITOR_ALARMS_CLASSES_PVC")
        )
        await expectConfigError(
            "",
            environment: ["ECG_MONITOR_INPUT_MAX_STREAMS": "lots"],
            .badConfigValue(key: "input.max_streams", value: "lots", expected: "an integer")
        )
        await expectConfigError(
            "",
            environment: ["ECG_MONITOR_INPUT_STDIN": "maybe"],
            .badConfigValue(key: "input.stdin", value: "maybe", expected: "true or false")
        )
    }
}
