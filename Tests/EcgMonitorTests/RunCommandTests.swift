import Alarms
import ArgumentParser
import Foundation
import Logging
import Model
import Stream
import Systemd
import TestSupport
import Testing

@testable import Monitor
@testable import ecg_monitor

@Suite struct RunCommandTests {
    @Test func isRegisteredAndParsesItsOptions() throws {
        #expect(EcgMonitor.configuration.subcommands.contains { $0 == RunCommand.self })
        let command = try RunCommand.parse([
            "--config", "c.yaml", "--socket", "/tmp/s.sock", "--stdin", "--alerts", "both", "--model", "m.onnx",
        ])
        #expect(command.config == "c.yaml")
        #expect(
            command.overrides
                == RunOverrides(socketPath: "/tmp/s.sock", readsStandardInput: true, alerts: .both, modelPath: "m.onnx")
        )
        #expect(throws: (any Error).self) { try RunCommand.parse(["--alerts", "syslog"]) }
    }

    @Test func printPlanListsTheFusedLayersOfTheConfiguredModel() async throws {
        #expect(try RunCommand.parse(["--print-plan"]).printPlan)
        let overrides = RunOverrides(modelPath: DaemonTestSupport.defaultModelPath)
        let lines = try await DaemonRuntime.planDump(configPath: nil, overrides: overrides).split(separator: "\n")
        let plan = try CompiledModel(contentsOf: DaemonTestSupport.defaultModelPath).plan
        #expect(lines.first?.hasSuffix("12 leads → \(plan.outputCount) logits, \(plan.summary.count) layers") == true)
        #expect(lines.count == plan.summary.count + 1)
        #expect(lines.dropFirst().first?.hasPrefix("   1  conv 12ch") == true)
    }

    @Test func overridesApplyOverTheConfiguration() {
        let config = RunOverrides(socketPath: "/tmp/x.sock", alerts: .json, modelPath: "other.onnx")
            .applied(to: .defaults)
        #expect(config.input.socketPath == "/tmp/x.sock" && !config.input.stdin)
        #expect(config.alerts.output == .json && config.model.path == "other.onnx")
        #expect(config.alarms == Config.defaults.alarms)
        #expect(RunOverrides().applied(to: .defaults) == .defaults)
    }

    @Test func standardInputAloneIsTheOnlyInput() throws {
        let binding = try ModelBinding(config: Self.defaultConfig)
        let stdinOnly = RunOverrides(readsStandardInput: true)
        var ingest = try DaemonRuntime.ingestConfiguration(
            stdinOnly.applied(to: Self.defaultConfig),
            overrides: stdinOnly,
            pipeline: binding.pipeline
        )
        #expect(ingest.readsStandardInput && ingest.socketPath == nil)
        let both = RunOverrides(socketPath: "/tmp/y.sock", readsStandardInput: true)
        ingest = try DaemonRuntime.ingestConfiguration(
            both.applied(to: Self.defaultConfig),
            overrides: both,
            pipeline: binding.pipeline
        )
        #expect(ingest.readsStandardInput && ingest.socketPath == "/tmp/y.sock")
        #expect(
            ingest.idleTimeoutSeconds == 5 && ingest.maxStreams == 64 && ingest.decoderLimits.bufferBytes == 1 << 20
        )
    }

    @Test func bufferTooSmallForTheLargestFrameNamesItsKey() throws {
        var config = Self.defaultConfig
        config.input.maxBufferedBytes = 4096
        let error = #expect(throws: DaemonError.self) {
            try DaemonRuntime.ingestConfiguration(
                config,
                overrides: RunOverrides(),
                pipeline: try ModelBinding(config: Self.defaultConfig).pipeline
            )
        }
        #expect(error?.description.contains("input.max_buffered_bytes") == true)
    }

    @Test func windowLengthOtherThanTheModelsIsRefused() throws {
        var config = Self.defaultConfig
        config.windows.seconds = 5
        let error = #expect(throws: DaemonError.self) { try ModelBinding(config: config) }
        #expect(error?.description.contains("windows.seconds") == true)
        #expect(error?.description.contains("2.5 s (250 samples)") == true)
    }

    @Test func rulesTakeTheModelsAlarmOperatingPointsUnlessConfigured() throws {
        var config = Self.defaultConfig
        let binding = try ModelBinding(config: config)
        #expect(binding.name == "ecg-incepse-all")
        let afib = try #require(binding.model.config.classes.firstIndex { $0.code == "AFIB" })
        let operatingPoint = try #require(binding.model.config.alarmThresholds[afib])
        #expect(operatingPoint != binding.model.config.thresholds[afib])
        #expect(try binding.rules(config).classRules[afib]?.threshold == Float(operatingPoint))
        config.alarms.thresholds["AFIB"] = 0.75
        #expect(try binding.rules(config).classRules[afib]?.threshold == 0.75)
        config.alarms.classes["NOPE"] = .high
        #expect(throws: AlarmsError.unknownAlarmClass(key: "alarms.classes.NOPE", code: "NOPE")) {
            try binding.rules(config)
        }
    }

    @Test func reloadNamesTheSettingsItCannotApply() {
        var fresh = Config.defaults
        fresh.alarms.confirmCount = 5
        fresh.technical.raiseCount = 4
        #expect(Config.defaults.keysNeedingRestart(comparedWith: fresh).isEmpty)
        fresh.inference.workers = 3
        fresh.technical.flatLineMillivolts = 0.05
        #expect(
            Config.defaults.keysNeedingRestart(comparedWith: fresh) == ["inference.workers", "technical.flat_line_mv"]
        )
    }

    @Test func logsGoToStandardErrorUnlessItIsTheJournalStream() async {
        await #expect(processExitsWith: .success) {
            unsetenv("JOURNAL_STREAM")
            guard (RunCommand.logHandler(label: "x") as? EscapingLogHandler)?.wrapped is StreamLogHandler else {
                exit(2)
            }
            // A JOURNAL_STREAM that is not this process's standard error (inherited from a parent) is ignored.
            setenv("JOURNAL_STREAM", "1:1", 1)
            guard (RunCommand.logHandler(label: "x") as? EscapingLogHandler)?.wrapped is StreamLogHandler else {
                exit(3)
            }
            var status = stat()
            guard fstat(STDERR_FILENO, &status) == 0 else { exit(4) }
            setenv("JOURNAL_STREAM", "\(status.st_dev):\(status.st_ino)", 1)
            guard (RunCommand.logHandler(label: "x") as? EscapingLogHandler)?.wrapped is JournalLogHandler else {
                exit(5)
            }
        }
    }

    /// The built-in configuration with the model path made absolute, so tests do not depend on their directory.
    static var defaultConfig: Config {
        var config = Config.defaults
        config.model.path = DaemonTestSupport.defaultModelPath
        return config
    }
}
