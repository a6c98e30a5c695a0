import Logging
import NIOCore
import Stream
import Synchronization

/// Where a stream comes from.
enum IngestSource: String, Sendable, Equatable {
    case socket
    case standardInput = "stdin"
}

/// What every connection handler of one ingest service shares: configuration, the window queue, counters and
/// the logger; all thread-safe, as handlers run on several event loops.
final class IngestContext: Sendable {
    let configuration: IngestConfiguration
    let queue: WindowQueue
    let counters: IngestCounters
    let logger: Logger
    /// Set when the service stops, so closing connections report why.
    let isStopping = Atomic<Bool>(false)
    /// Connections open now.
    let connectionCount = Atomic<Int>(0)
    /// Socket connections open now per peer uid.
    private let connectionsPerUser = Mutex<[UInt32: Int]>([:])
    private let designs = Mutex<[Int: ResamplerDesign]>([:])
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(
        configuration: IngestConfiguration,
        queue: WindowQueue,
        counters: IngestCounters,
        logger: Logger
    ) {
        self.configuration = configuration
        self.queue = queue
        self.counters = counters
        self.logger = logger
    }

    /// Counts a connection of `user` if that user is below the per-user limit, and uncounts it when `channel`
    /// closes; false (nothing counted) when the user is at the limit.
    func admit(user: UInt32, channel: any Channel) -> Bool {
        let admitted = connectionsPerUser.withLock { counts in
            guard counts[user, default: 0] < configuration.connectionLimitPerUser else { return false }
            counts[user, default: 0] += 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [self] _ in
                connectionsPerUser.withLock { counts in
                    counts[user, default: 1] -= 1
                    if counts[user] == 0 { counts[user] = nil }
                }
            }
        }
        return admitted
    }

    /// One resampler design per input rate, shared by every stream at that rate.
    func resamplerDesign(inputRateHz: Int) -> ResamplerDesign {
        if let design = designs.withLock({ $0[inputRateHz] }) { return design }
        // Designed outside the lock: it takes a few milliseconds for rates with large factors.
        let design = ResamplerDesign(
            inputRateHz: inputRateHz,
            outputRateHz: configuration.pipeline.sampleRateHz,
            attenuationDecibels: configuration.pipeline.resamplerAttenuationDecibels
        )
        return designs.withLock { designs in
            if let existing = designs[inputRateHz] { return existing }
            designs[inputRateHz] = design
            return design
        }
    }

    /// Remembers an open connection so that shutdown can close it.
    func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        channels.withLock { $0[key] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLock { $0.removeValue(forKey: key) }
        }
    }

    /// Connections open now.
    var openChannels: [any Channel] {
        channels.withLock { Array($0.values) }
    }

    /// The protocol's error line: `{"error":code,"message":text[,"stream":id]}` and a newline.
    static func errorLine(code: String, message: String, streamID: String?) -> String {
        var members: [(key: String, value: JSONValue)] = [("error", .string(code)), ("message", .string(message))]
        if let streamID { members.append(("stream", .string(streamID))) }
        return JSONValue.object(members).serialized + "\n"
    }
}
