import Glibc
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Stream
import Synchronization
import Systemd

/// Serves the ingest protocol (docs/protocol.md) on a UNIX stream socket and, for development, on standard
/// input; every connection is one stream, decoded and cut into windows for the ``WindowQueue``.
///
/// Fallible setup (binding or adopting the socket, opening standard input) happens in ``start(configuration:queue:counters:logger:group:)``,
/// before the service group runs, so a bad socket path fails start-up; ``run()`` then lives until graceful
/// shutdown, when every connection gets a `service_stopping` error line and is closed (ending its stream),
/// or, with standard input as the only input, until standard input ends.
final class IngestService: Service {
    /// The state shared with every connection.
    let context: IngestContext
    /// The path the service bound, `nil` for an inherited socket or none.
    let boundSocketPath: String?
    private let serverChannel: (any Channel)?
    private let standardInputDone: EventLoopFuture<Void>?

    private init(
        context: IngestContext,
        serverChannel: (any Channel)?,
        boundSocketPath: String?,
        standardInputDone: EventLoopFuture<Void>?
    ) {
        self.context = context
        self.serverChannel = serverChannel
        self.boundSocketPath = boundSocketPath
        self.standardInputDone = standardInputDone
    }

    /// Opens the inputs and starts accepting streams.
    ///
    /// - Parameters:
    ///   - configuration: inputs, limits, pipeline.
    ///   - queue: where windows go; its capacity should be `configuration.maxStreams`.
    ///   - counters: Where refused connections are counted.
    ///   - logger: for the service's own messages (`ecg.stream`, `ecg.source` metadata per connection).
    ///   - group: the event loops serving connections.
    /// - Throws: ``IngestError`` or ``StreamError/badConfiguration(reason:)`` when an input cannot be opened.
    static func start(
        configuration: IngestConfiguration,
        queue: WindowQueue,
        counters: IngestCounters,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> IngestService {
        try configuration.validate()
        var configuration = configuration
        configuration.maxConnections = OpenFilesLimit.connectionLimit(
            for: configuration.connectionLimit, logger: logger)
        let context = IngestContext(configuration: configuration, queue: queue, counters: counters, logger: logger)
        var serverChannel: (any Channel)?
        var boundPath: String?
        if let descriptor = configuration.inheritedSocketDescriptor {
            serverChannel = try await serverBootstrap(group: group, context: context).withBoundSocket(descriptor).get()
        } else if let path = configuration.socketPath {
            serverChannel = try await bind(path: path, mode: configuration.socketMode, group: group, context: context)
            boundPath = path
        }
        var standardInputDone: EventLoopFuture<Void>?
        if configuration.readsStandardInput {
            do {
                standardInputDone = try await openStandardInput(group: group, context: context)
            } catch {
                try? await serverChannel?.close()
                if let boundPath { unlink(boundPath) }
                throw error
            }
        }
        return IngestService(
            context: context,
            serverChannel: serverChannel,
            boundSocketPath: boundPath,
            standardInputDone: standardInputDone
        )
    }

    /// Serves until graceful shutdown or cancellation, or, with standard input as the only input, until it ends.
    ///
    /// - Throws: ``IngestError/standardInput(reason:)`` when the stream on standard input breaks the protocol.
    func run() async throws {
        defer { removeBoundSocket() }
        do {
            try await withTaskCancellationOrGracefulShutdownHandler {
                try await waitForInputsToEnd()
            } onCancelOrGracefulShutdown: { [self] in
                stop()
            }
        } catch {
            stop()
            await waitForConnectionsToClose()
            throw error
        }
        stop()
        await waitForConnectionsToClose()
    }

    private func waitForInputsToEnd() async throws {
        if let standardInputDone {
            try await standardInputDone.get()
            guard serverChannel != nil else { return }
        }
        if let serverChannel {
            try await serverChannel.closeFuture.get()
        }
    }

    /// Stops accepting and asks every connection to close.
    private func stop() {
        guard !context.isStopping.exchange(true, ordering: .relaxed) else { return }
        serverChannel?.close(promise: nil)
        for channel in context.openChannels {
            channel.pipeline.fireUserInboundEventTriggered(IngestHandler.ServiceStopping())
        }
    }

    private func waitForConnectionsToClose() async {
        for channel in context.openChannels {
            try? await channel.closeFuture.get()
        }
    }

    private func removeBoundSocket() {
        guard let boundSocketPath else { return }
        unlink(boundSocketPath)
    }

    // MARK: - Inputs

    private static func serverBootstrap(group: any EventLoopGroup, context: IngestContext) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try AcceptFailureReporter.install(on: channel, logger: context.logger, counters: context.counters)
                }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                peerUser(of: channel).flatMapThrowing { user in
                    try addHandlers(to: channel, context: context, source: .socket, user: user, completion: nil)
                }
            }
    }

    private static func bind(
        path: String,
        mode: UInt32,
        group: any EventLoopGroup,
        context: IngestContext
    )
        async throws -> any Channel
    {
        try refuseLiveSocket(at: path)
        let channel: any Channel
        do {
            channel = try await serverBootstrap(group: group, context: context)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        } catch {
            throw IngestError.socket(reason: "cannot bind \(path): \(error)")
        }
        // Until this chmod, the umask decides who may connect; under systemd the socket unit sets the mode.
        guard chmod(path, mode_t(mode)) == 0 else {
            let error = errno
            try? await channel.close()
            throw IngestError.socket(reason: "cannot set mode \(String(mode, radix: 8)) on \(path): errno \(error)")
        }
        return channel
    }

    /// Refuses to replace a socket file that another process still serves: binding would unlink it, and that
    /// process would go on running, unreachable. A socket file nobody accepts on (ECONNREFUSED) is stale and
    /// may be replaced; a path that is no socket at all is left to the bind to refuse.
    private static func refuseLiveSocket(at path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK else { return }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path.utf8)
            buffer[path.utf8.count] = 0
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw SystemdError.systemCall(name: "socket", errno: errno) }
        defer { close(probe) }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected == 0 || errno == EAGAIN {
            throw IngestError.socket(
                reason: "\(path) is in use: another process accepts connections on it; stop it first")
        }
    }

    private static func openStandardInput(
        group: any EventLoopGroup,
        context: IngestContext
    ) async throws
        -> EventLoopFuture<Void>
    {
        let descriptor = try StandardInputRelay.pollableDescriptor(
            for: context.configuration.standardInputDescriptor
        )
        let loop = group.next()
        let done = loop.makePromise(of: Void.self)
        do {
            _ = try await NIOPipeBootstrap(group: loop)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try addHandlers(to: channel, context: context, source: .standardInput, completion: done)
                    }
                }
                .takingOwnershipOfDescriptor(input: descriptor).get()
        } catch {
            done.fail(error)
            throw IngestError.unsupportedStandardInput(reason: "\(error)")
        }
        return done.futureResult
    }

    /// The peer's credentials as `SO_PEERCRED` returns them (`struct ucred`, which Swift's Glibc does not export).
    private struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// The uid of the process at the other end of a UNIX-socket connection.
    private static func peerUser(of channel: any Channel) -> EventLoopFuture<UInt32> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(IngestError.socket(reason: "a connection without socket options"))
        }
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: .init(rawValue: SOL_SOCKET),
            name: .init(rawValue: SO_PEERCRED)
        )
        return credentials.map(\.uid)
    }

    /// Idle timer, then the stream handler; a connection over a limit (all connections, or those of its peer's
    /// uid) gets a refusal line instead.
    private static func addHandlers(
        to channel: any Channel,
        context: IngestContext,
        source: IngestSource,
        user: UInt32? = nil,
        completion: EventLoopPromise<Void>?
    ) throws {
        let count = context.connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
        channel.closeFuture.whenComplete { _ in context.connectionCount.wrappingSubtract(1, ordering: .relaxed) }
        let userAdmitted = user.map { context.admit(user: $0, channel: channel) } ?? true
        guard count <= context.configuration.connectionLimit, userAdmitted, !context.isStopping.load(ordering: .relaxed)
        else {
            let reason =
                if context.isStopping.load(ordering: .relaxed) {
                    "the service is stopping"
                } else if !userAdmitted, let user {
                    "the limit of \(context.configuration.connectionLimitPerUser) connections of user \(user) is reached"
                } else {
                    "the limit of \(context.configuration.connectionLimit) connections is reached"
                }
            context.counters.recordRefusal()
            context.logger.warning("stream refused", metadata: ["ecg.reason": "\(reason)"])
            let line = IngestContext.errorLine(
                code: StreamError.refused(reason: reason).code,
                message: reason,
                streamID: nil
            )
            channel.writeAndFlush(channel.allocator.buffer(string: line)).whenComplete { _ in
                channel.close(promise: nil)
            }
            return
        }
        context.track(channel)
        let idle = TimeAmount.nanoseconds(Int64(context.configuration.idleTimeoutSeconds * 1e9))
        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
        try channel.pipeline.syncOperations.addHandler(
            IngestHandler(shared: context, source: source, completion: completion)
        )
    }
}
