import Alarms
import Glibc
import Logging
import NIOCore
import Stream
import SystemPackage

/// One connection (or standard input): bytes → ``FrameDecoder`` → ``StreamPipeline`` → ``WindowQueue``.
///
/// Runs on the connection's event loop and never blocks: decoding and the pipeline are pure computation, and
/// publishing a window takes one short lock. Any protocol error is answered with one JSON error line
/// (standard input: on stderr) and the connection is closed; other streams never notice.
final class IngestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent to every connection when the service stops.
    struct ServiceStopping: Sendable {}

    private enum State {
        case awaitingHeader
        case streaming(StreamPipeline, WindowQueue.Publisher)
        case closed
    }

    /// How often skipped garbage is logged per stream at most.
    private static let garbageLogInterval = TimeAmount.seconds(10)

    private let shared: IngestContext
    private let source: IngestSource
    private let decoder: FrameDecoder
    private let completion: EventLoopPromise<Void>?
    private var state = State.awaitingHeader
    private var receivedBytes = false
    private var loggedSkippedBytes = 0
    private var lastGarbageLog = NIODeadline.distantPast
    private var logger: Logger

    /// Creates the handler of one connection.
    ///
    /// - Parameters:
    ///   - shared: the service's shared state.
    ///   - source: socket or standard input.
    ///   - completion: for standard input, succeeded when the stream ends cleanly and failed with
    ///     ``IngestError/standardInput(reason:)`` otherwise.
    init(shared: IngestContext, source: IngestSource, completion: EventLoopPromise<Void>?) throws(StreamError) {
        self.shared = shared
        self.source = source
        self.completion = completion
        decoder = try FrameDecoder(limits: shared.configuration.decoderLimits)
        logger = shared.logger
        logger[metadataKey: "ecg.source"] = "\(source.rawValue)"
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closed = state { return }
        let buffer = unwrapInboundIn(data)
        receivedBytes = receivedBytes || buffer.readableBytes > 0
        if let error = buffer.withUnsafeReadableBytes({ consume($0) }) {
            fail(context: context, error: error)
            return
        }
        logGarbageIfNeeded()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            let seconds = shared.configuration.idleTimeoutSeconds
            fail(context: context, error: .idleTimeout(seconds: seconds), ending: .stalled)
        case let channelEvent as ChannelEvent where channelEvent == .inputClosed:
            endOfInput(context: context)
        case is ServiceStopping:
            stopForShutdown(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        endOfInput(context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !isClosed else { return }
        let reason = "connection error: \(error)"
        finish(endedUnexpectedly: reason, refusedReason: nil)
        completion?.fail(IngestError.standardInput(reason: reason))
        context.close(promise: nil)
    }

    // MARK: - Decoding

    /// Feeds bytes through the decoder and pipeline; returns the first error.
    private func consume(_ bytes: UnsafeRawBufferPointer) -> StreamError? {
        var offset = 0
        do {
            while offset < bytes.count {
                offset += decoder.append(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                while let item = try decoder.next() {
                    try handle(item)
                }
            }
            return nil
        } catch {
            return error
        }
    }

    private func handle(_ item: FrameDecoder.Item) throws(StreamError) {
        switch item {
        case .header(let header):
            try open(header)
        case .frame(let frame):
            guard case .streaming(let pipeline, let publisher) = state else { return }
            try pipeline.append(frame) { window in publisher.publish(window) }
        }
    }

    private func open(_ header: StreamHeader) throws(StreamError) {
        let publisher: WindowQueue.Publisher
        do {
            publisher = try shared.queue.open(streamID: header.streamID)
        } catch {
            switch error {
            case .full(let limit): throw .refused(reason: "the limit of \(limit) open streams is reached")
            case .duplicateID(let streamID): throw .refused(reason: "a stream with id '\(streamID)' is already open")
            }
        }
        let pipeline: StreamPipeline
        do {
            pipeline = try StreamPipeline(
                header: header,
                configuration: shared.configuration.pipeline,
                resamplerDesign: shared.resamplerDesign(inputRateHz: header.sampleRateHz)
            )
        } catch {
            publisher.close()
            throw error
        }
        state = .streaming(pipeline, publisher)
        logger[metadataKey: "ecg.stream"] = "\(header.streamID)"
        var metadata: Logger.Metadata = [
            "ecg.rate_hz": "\(header.sampleRateHz)", "ecg.format": "\(header.format.wireName)",
            "ecg.leads": "\(header.leads.map(\.name).joined(separator: ","))",
            "ecg.derived_leads": "\(pipeline.mapping.derivedLeads.map(\.name).joined(separator: ","))",
            "ecg.latency_seconds": "\(pipeline.latencySeconds)", "ecg.shard": "\(publisher.shard)",
        ]
        if let start = header.start {
            metadata["ecg.start"] = "\(start)"
        }
        logger.info("stream opened", metadata: metadata)
    }

    // MARK: - Endings

    private var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    private func endOfInput(context: ChannelHandlerContext) {
        guard !isClosed else { return }
        do {
            try decoder.finish()
        } catch {
            // A connection that closes without a byte is a probe, not a stream.
            if !receivedBytes, source == .socket {
                state = .closed
                context.close(promise: nil)
            } else {
                fail(context: context, error: error)
            }
            return
        }
        if case .streaming(let pipeline, let publisher) = state {
            publisher.close(ending: .expected)
            logger.info("stream ended", metadata: summary(pipeline))
        }
        state = .closed
        completion?.succeed()
        context.close(promise: nil)
    }

    /// Answers a protocol error with one JSON line and closes.
    private func fail(context: ChannelHandlerContext, error: StreamError, ending: StreamEnding = .unexpected) {
        guard !isClosed else { return }
        finish(endedUnexpectedly: error.description, refusedReason: error.description, ending: ending)
        send(context: context, code: error.code, message: error.description)
        completion?.fail(IngestError.standardInput(reason: error.description))
    }

    private func stopForShutdown(context: ChannelHandlerContext) {
        guard !isClosed else { return }
        let reason = "the service is stopping"
        finish(endedUnexpectedly: reason, refusedReason: nil)
        send(context: context, code: "service_stopping", message: reason)
        completion?.succeed()
    }

    /// Releases the stream and reports how it ended; `refusedReason` applies when no stream was open.
    private func finish(
        endedUnexpectedly reason: String,
        refusedReason: String?,
        ending: StreamEnding = .unexpected
    ) {
        switch state {
        case .streaming(let pipeline, let publisher):
            publisher.close(ending: ending)
            logger.warning(
                "stream ended unexpectedly",
                metadata: summary(pipeline).merging(["ecg.reason": "\(reason)"]) { _, reason in reason }
            )
        case .awaitingHeader:
            if let refusedReason {
                shared.counters.recordRefusal()
                var metadata: Logger.Metadata = ["ecg.reason": "\(refusedReason)"]
                if let streamID = decoder.header?.streamID {
                    metadata["ecg.stream"] = "\(streamID)"
                }
                logger.warning("stream refused", metadata: metadata)
            }
        case .closed:
            break
        }
        state = .closed
    }

    /// The error line goes to the client, or to stderr for standard input; then the connection closes.
    private func send(context: ChannelHandlerContext, code: String, message: String) {
        let line = IngestContext.errorLine(code: code, message: message, streamID: decoder.header?.streamID)
        switch source {
        case .socket:
            let channel = context.channel
            let buffer = channel.allocator.buffer(string: line)
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        case .standardInput:
            Self.writeToStandardError(line)
            context.close(promise: nil)
        }
    }

    /// One short line, written whole (partial writes looped, EINTR retried); a closed stderr is ignored.
    private static func writeToStandardError(_ line: String) {
        _ = try? FileDescriptor.standardError.writeAll(line.utf8)
    }

    /// A stream's counts when it ends, as log metadata.
    private func summary(_ pipeline: StreamPipeline) -> Logger.Metadata {
        let statistics = pipeline.statistics
        return [
            "ecg.input_samples": "\(statistics.inputSamples)", "ecg.windows": "\(statistics.windows)",
            "ecg.skipped_bytes": "\(decoder.skippedByteCount)",
            "ecg.non_finite_values": "\(statistics.nonFiniteValues)",
            "ecg.saturated_values": "\(statistics.saturatedValues)",
            "ecg.missing_samples": "\(statistics.missingSamples)",
        ]
    }

    /// Garbage is data, not an error: logged with its running total, at most every ten seconds.
    private func logGarbageIfNeeded() {
        let skipped = decoder.skippedByteCount
        guard skipped > loggedSkippedBytes else { return }
        let now = NIODeadline.now()
        guard now - lastGarbageLog >= Self.garbageLogInterval else { return }
        lastGarbageLog = now
        loggedSkippedBytes = skipped
        logger.warning("skipped bytes that are not valid frames", metadata: ["ecg.skipped_bytes": "\(skipped)"])
    }
}
