import NIOCore
import Systemd

/// One heartbeat per event loop of a group, beaten by a task the loop itself runs, so that an event loop
/// blocked by a handler stops the watchdog pings just as a stuck inference worker does.
final class EventLoopHeartbeats: Sendable {
    /// The heartbeats, `io-0`, `io-1`, … in the group's loop order.
    let heartbeats: [Heartbeat]
    private let tasks: [RepeatedTask]

    /// Starts beating on every loop of `group` every `interval`.
    init(group: any EventLoopGroup, interval: Duration) {
        let (seconds, attoseconds) = interval.components
        let delay = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        var heartbeats: [Heartbeat] = []
        var tasks: [RepeatedTask] = []
        for (index, loop) in group.makeIterator().enumerated() {
            let heartbeat = Heartbeat(name: "io-\(index)")
            heartbeats.append(heartbeat)
            tasks.append(loop.scheduleRepeatedTask(initialDelay: .zero, delay: delay) { _ in heartbeat.beat() })
        }
        self.heartbeats = heartbeats
        self.tasks = tasks
    }

    /// Stops beating.
    func cancel() {
        for task in tasks { task.cancel() }
    }
}
