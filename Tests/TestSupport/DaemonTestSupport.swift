import Foundation
import Logging
import Model
import NIOCore
import NIOPosix
import Stream
import Synchronization
import Testing

/// Shared helpers of the daemon tests.
package enum DaemonTestSupport {
    /// The package's root directory.
    package static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The real recordings, at `../shared/ecg-samples` relative to the package root.
    package static let samplesDirectory = packageRoot.deletingLastPathComponent().appendingPathComponent(
        "shared/ecg-samples"
    )
    .path

    /// The model test fixtures (`Tests/ModelTests/Fixtures`).
    package static let modelFixtures = packageRoot.appendingPathComponent("Tests/ModelTests/Fixtures")

    /// Loads the fixture model `name`, e.g. `tiny.onnx`.
    package static func fixtureModel(_ name: String) throws -> CompiledModel {
        try CompiledModel(contentsOf: modelFixtures.appendingPathComponent(name).path)
    }

    /// The committed default model.
    package static let defaultModelPath = packageRoot.appendingPathComponent("models/ecg-incepse-all.onnx").path

    /// Runs a committed Python tool with the project's virtual environment (`.venv`, made by `make deps`) and
    /// returns its standard output; fails the test clearly when the environment is missing or the tool fails.
    package static func runPython(
        _ script: String,
        _ arguments: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Data {
        let python = packageRoot.appendingPathComponent(".venv/bin/python").path
        try #require(
            FileManager.default.isExecutableFile(atPath: python),
            "\(python) is missing: `make deps` creates the Python environment this test compares against",
            sourceLocation: sourceLocation
        )
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [packageRoot.appendingPathComponent(script).path] + arguments
        process.currentDirectoryURL = packageRoot
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(
            process.terminationStatus == 0,
            "\(script) exited with status \(process.terminationStatus)",
            sourceLocation: sourceLocation
        )
        return data
    }

    /// The path of a sample record, failing the test clearly when the recordings are absent.
    package static func samplePath(_ relative: String, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> String
    {
        let path = samplesDirectory + "/" + relative
        try #require(
            FileManager.default.fileExists(atPath: path + ".hea"),
            "sample record \(relative) is absent: the ECG recordings are expected in \(samplesDirectory)",
            sourceLocation: sourceLocation
        )
        return path
    }

    /// A fresh directory for sockets in the system's temporary directory; its name is short because a UNIX
    /// socket path must fit in 108 bytes.
    package static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ecgt-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// 12 standard leads at 100 Hz, windows of 250 every 50, no preprocessing.
    package static func pipelineConfiguration(windowSamples: Int = 250, hopSamples: Int = 50) throws
        -> PipelineConfiguration
    {
        try PipelineConfiguration(
            sampleRateHz: 100,
            windowSamples: windowSamples,
            hopSamples: hopSamples,
            leadNames: StandardLead.allCases.map(\.name)
        )
    }

    package static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
}
