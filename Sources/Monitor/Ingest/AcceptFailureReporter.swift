import Glibc
import Logging
import NIOCore
import NIOPosix

/// Sits on the listening socket: says once per episode, loudly, that connections cannot be accepted (the
/// system's descriptor table or memory exhausted: the daemon's own limit is kept clear, see
/// ``OpenFilesLimit``), and again when they can; every failed `accept` is counted for `STATUS=`.
final class AcceptFailureReporter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel

    private let logger: Logger
    private let counters: IngestCounters
    private var failing = false

    init(logger: Logger, counters: IngestCounters) {
        self.logger = logger
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if failing {
            failing = false
            logger.notice("accepting connections again")
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        counters.failAccept()
        guard !failing else { return }
        failing = true
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        logger.error(
            "cannot accept connections; producers wait in the backlog",
            metadata: ["ecg.error": "\(error)", "ecg.open_files_limit": "\(limit.rlim_cur)"]
        )
    }

    /// A reporter on the listening channel's pipeline.
    static func install(on channel: any Channel, logger: Logger, counters: IngestCounters) throws {
        try channel.pipeline.syncOperations.addHandler(AcceptFailureReporter(logger: logger, counters: counters))
    }
}

/// The process's open-files limit against the connection limit.
///
/// An `accept` that fails for want of a descriptor cannot be backed off from in NIO: its listening channel stays
/// registered for reading (the read it asked for is still pending), so the event loop would spin on it. The
/// connection limit is therefore kept below the descriptor limit: a producer past it is accepted, told
/// that it is refused and closed, and `accept` never runs out of descriptors on the daemon's account.
enum OpenFilesLimit {
    /// Descriptors the daemon holds besides connections: three per event loop (one loop per core), standard
    /// streams, the listening socket, the journal and notify sockets, the model file while it loads.
    static var reserve: Int { 32 + 4 * System.coreCount }

    /// Raises the soft `RLIMIT_NOFILE` towards `connections` + ``reserve`` (up to the hard limit) and returns
    /// the connections it allows (at least 1), warning with the numbers when that is fewer than asked for.
    static func connectionLimit(for connections: Int, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return connections }
        let needed = rlim_t(connections + reserve)
        if limit.rlim_cur < needed, limit.rlim_max > limit.rlim_cur {
            var raised = limit
            raised.rlim_cur = min(needed, limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        guard limit.rlim_cur < needed else { return connections }
        let allowed = max(1, Int(limit.rlim_cur) - reserve)
        logger.warning(
            "the open files limit caps the connections: producers past it are refused",
            metadata: [
                "ecg.open_files_limit": "\(limit.rlim_cur)", "ecg.connections_allowed": "\(allowed)",
                "ecg.connections_configured": "\(connections)",
            ]
        )
        return allowed
    }
}
