import ArgumentParser
import Testing

@testable import ecg_monitor

@Suite struct BenchCommandTests {
    @Test func refusesNonPositiveSettings() {
        #expect(throws: (any Error).self) { try BenchCommand.parse(["--model", "m.onnx", "--threads", "0"]) }
        #expect(throws: (any Error).self) { try BenchCommand.parse(["--model", "m.onnx", "--seconds", "-1"]) }
        #expect(throws: (any Error).self) {
            try BenchCommand.parse(["--model", "m.onnx", "--batch", "1000000", "--time", "1000000"])
        }
    }
}
