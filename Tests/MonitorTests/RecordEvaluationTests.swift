import Foundation
import Stream
import Synchronization
import TestSupport
import Testing

@testable import Monitor

/// Records evaluated on several threads come back in the order given, each through `prepare`, and a record that
/// cannot be read ends the run with its error.
@Suite(.timeLimit(.minutes(2))) struct RecordEvaluationTests {
    static func evaluation(prepare: @escaping @Sendable (WFDBRecord) -> WFDBRecord) throws -> RecordEvaluation {
        var config = Config.defaults
        config.model.path = DaemonTestSupport.defaultModelPath
        return RecordEvaluation(setup: try AlarmEvaluator.Setup(config: config), heartRates: false, prepare: prepare)
    }

    @Test func keepsTheGivenOrderAcrossThreadsAndPreparesEveryRecord() async throws {
        let names = ["00008_lr", "00172_lr", "00008_lr"]
        let paths = try names.map { try DaemonTestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/\($0)") }
        let prepared = Mutex(0)
        let evaluation = try Self.evaluation { record in
            prepared.withLock { $0 += 1 }
            return record
        }
        let outputs = try await evaluation.run(paths: paths, threads: 2)
        #expect(prepared.withLock { $0 } == 3)
        #expect(outputs.count == 3)
        for (output, name) in zip(outputs, names) {
            let summary = try #require(output.split(separator: "\n").last)
            #expect(summary.contains(#""stream":"\#(name)""#), "\(summary)")
        }
        #expect(outputs[0] == outputs[2])
    }

    @Test func aRecordThatCannotBeReadEndsTheRunWithItsError() async throws {
        let good = try DaemonTestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00008_lr")
        await #expect(throws: StreamError.self) {
            try await Self.evaluation { $0 }.run(paths: [good, "/nonexistent/record"], threads: 2)
        }
    }
}
