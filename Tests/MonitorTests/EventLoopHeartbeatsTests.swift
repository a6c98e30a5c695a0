import NIOCore
import NIOPosix
import Systemd
import Testing

@testable import Monitor

@Suite(.timeLimit(.minutes(1))) struct EventLoopHeartbeatsTests {
    @Test func everyLoopBeatsUntilCancelled() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let beats = EventLoopHeartbeats(group: group, interval: .milliseconds(5))
        #expect(beats.heartbeats.map(\.name) == ["io-0", "io-1"])
        while beats.heartbeats.contains(where: { $0.count < 3 }), !Task.isCancelled { await Task.yield() }
        beats.cancel()
        #expect(beats.heartbeats.allSatisfy { $0.count >= 3 })
        try await group.shutdownGracefully()
    }
}
