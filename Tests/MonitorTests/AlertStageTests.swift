import AlarmsTestSupport
import Foundation
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Systemd
import TestSupport
import Testing

@testable import Monitor

@Suite(.timeLimit(.minutes(1))) struct AlertStageTests {
    /// Inputs sent before graceful shutdown reaches the stage are all applied and written before it returns.
    @Test func gracefulShutdownWritesEverythingAlreadySent() async throws {
        let pipe = try OutputPipe()
        let counters = AlertCounters()
        let (inputs, continuation) = AsyncStream.makeStream(of: AlertService.Input.self)
        let stage = AlertStage(
            service: AlertService(
                rules: try makeRules(),
                inputs: inputs,
                output: AlertOutput(destination: .json, lines: FileDescriptorOutput(descriptor: pipe.writeEnd)),
                counters: counters,
                logger: DaemonTestSupport.logger
            ),
            inputs: continuation
        )
        await testGracefulShutdown { trigger in
            async let running: Void = stage.run()
            for index in 0..<3 {
                let start = Double(index) * 0.5
                continuation.yield(
                    .classified(
                        stream: "bed-1",
                        startSeconds: start,
                        endSeconds: start + 2.5,
                        probabilities: [0, 0.9, 0]
                    )
                )
            }
            continuation.yield(.ended(stream: "bed-1", expected: true))
            trigger.triggerGracefulShutdown()
            await running
        }
        let events = try pipe.closeAndReadObjects().map { "\($0["event"] ?? "")/\($0["reason"] ?? "-")" }
        #expect(events == ["raised/-", "cleared/stream-ended"])
        #expect(counters.eventsEmitted == 2)
    }
}
