import Model
import TestSupport
import Testing

@testable import Benchmarks

@Suite struct EngineBenchmarkTests {
    @Test func measuresEveryWorkersCalls() throws {
        let model = try DaemonTestSupport.fixtureModel("tiny.onnx")
        let workers = EngineBenchmark.measure(model: model, batch: 2, time: 100, threads: 2, seconds: 0.2)
        #expect(workers.count == 2)
        #expect(
            workers.allSatisfy { !$0.wall.isEmpty && $0.wall.count == $0.cpu.count && $0.wall.allSatisfy { $0 > 0 } })
    }
}
