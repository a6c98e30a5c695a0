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
///
/// A stream that can wait — standard input, or a header with `"recorded":true` — is read no faster than it is
/// classified: when its previous window is still queued, the new one is held, reading stops (and with it the
/// producer, once the socket's buffers fill), and the rest of the input waits until a worker takes the queued
/// window. A live stream never waits: its newest window replaces a queued one, which is counted. Nor may it run
/// ahead of real time: a live stream whose samples arrive more than the configured lead
/// (``IngestConfiguration/liveLeadSeconds``) ahead of the wall clock since its first sample is not read until the
/// clock has caught up, so a producer that lies about being
/// live is slowed at its own socket and takes no more than its share of the inference workers.
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
    /// Whether the stream waits for the workers instead of losing windows (see the type's description).
    private var waitsForWorkers = false
    /// A window of a waiting stream is held back until its previous one is taken.
    private var holdsWindow = false
    /// A frame partly run through the pipeline when a window was held: the instant to resume from (nil: done).
    private var heldFrame: (frame: SampleFrame, next: Int?)?
    /// Input not yet handed to the decoder while a window is held.
    private var heldInput: ByteBuffer?
    /// The input ended while a window was held; the stream ends once everything before it is through.
    private var inputEndedWhileWaiting = false
    private var receivedBytes = false
    private var loggedSkippedBytes = 0
    private var lastGarbageLog = NIODeadline.distantPast
    private var logger: Logger
    /// Closes a socket connection whose header line is not complete in time.
    private var headerDeadline: Scheduled<Void>?
    /// When a live stream's first frame arrived: its sample clock's origin on the wall clock.
    private var liveClockOrigin: NIODeadline?
    /// Reading paused until a live stream's wall clock catches up with its samples.
    private var pacingResume: Scheduled<Void>?
    private var loggedPacing = false
    /// The connection closed: what is left is read at once, as nobody is left to slow down (and the handler is
    /// about to leave the pipeline, its timers with it).
    private var pacingEnded = false

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

    func handlerAdded(context: ChannelHandlerContext) {
        guard source == .socket else { return }
        let seconds = shared.configuration.headerTimeoutSeconds
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        headerDeadline = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
            let (handler, context) = bound.value
            guard case .awaitingHeader = handler.state else { return }
            handler.fail(context: context, error: .headerTimeout(seconds: seconds))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headerDeadline?.cancel()
        pacingResume?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closed = state { return }
        var buffer = unwrapInboundIn(data)
        receivedBytes = receivedBytes || buffer.readableBytes > 0
        if isWaiting {
            // A read already under way when reading stopped: it waits with the rest.
            heldInput.setOrWriteBuffer(&buffer)
            return
        }
        consumeAndWait(&buffer, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            // Nothing is read while a window is held or a fast stream is paced: the producer waits for us.
            guard !isWaiting else { return }
            let seconds = shared.configuration.idleTimeoutSeconds
            fail(context: context, error: .idleTimeout(seconds: seconds), ending: .stalled)
        case let channelEvent as ChannelEvent where channelEvent == .inputClosed:
            endOfInputOnceThrough(context: context)
        case is ServiceStopping:
            stopForShutdown(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        endOfInputOnceThrough(context: context, producerGone: true)
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

    /// Feeds `buffer` through, and if a window is held, stops reading until a worker makes room.
    private func consumeAndWait(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        if let error = consume(&buffer, context: context) {
            fail(context: context, error: error)
            return
        }
        logGarbageIfNeeded()
        if isWaiting {
            heldInput.setOrWriteBuffer(&buffer)
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        }
    }

    /// Whether input waits: for a worker to take the held window, or for the wall clock to catch up.
    private var isWaiting: Bool { holdsWindow || pacingResume != nil }

    /// Makes a live stream whose samples run more than the configured lead ahead of the wall clock wait
    /// until the clock has caught up by a quarter of a second: it is then read in quarter-second bursts, each
    /// completing at most one window at the default hop, so pacing itself costs no window.
    private func paceLiveStream(context: ChannelHandlerContext) {
        guard !waitsForWorkers, !pacingEnded, pacingResume == nil, case .streaming(let pipeline, _) = state,
            pipeline.statistics.inputSamples > 0
        else { return }
        let now = NIODeadline.now()
        let origin = liveClockOrigin ?? now
        liveClockOrigin = origin
        let streamSeconds = Double(pipeline.statistics.inputSamples) / Double(pipeline.header.sampleRateHz)
        let ahead = streamSeconds - Double((now - origin).nanoseconds) / 1e9
        let lead = shared.configuration.liveLeadSeconds
        guard ahead > lead else { return }
        if !loggedPacing {
            loggedPacing = true
            logger.notice(
                "live stream sends faster than real time: reading it is paced to its sample clock",
                metadata: ["ecg.ahead_seconds": "\(ahead)"]
            )
        }
        let wait = TimeAmount.nanoseconds(Int64((ahead - lead + 0.25) * 1e9))
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        pacingResume = context.eventLoop.scheduleTask(in: wait) {
            let (handler, context) = bound.value
            handler.pacingResume = nil
            guard !handler.isClosed else { return }
            handler.continueAfterWaiting(context: context)
        }
    }

    /// Feeds bytes through the decoder and pipeline until they are used up or a window is held; returns the first
    /// error. A held frame is finished first, and the decoder is left alone while one is held (the frame's
    /// samples live in it).
    private func consume(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) -> StreamError? {
        do {
            while !isWaiting {
                if let (frame, next) = heldFrame {
                    heldFrame = nil
                    if let next { try run(frame, from: next, context: context) }
                    continue
                }
                if let item = try decoder.next() {
                    try handle(item, context: context)
                    if case .frame = item { paceLiveStream(context: context) }
                    continue
                }
                guard buffer.readableBytes > 0 else { return nil }
                let used = buffer.withUnsafeReadableBytes { decoder.append($0) }
                buffer.moveReaderIndex(forwardBy: used)
            }
            return nil
        } catch {
            return error
        }
    }

    private func handle(_ item: FrameDecoder.Item, context: ChannelHandlerContext) throws(StreamError) {
        switch item {
        case .header(let header):
            try open(header)
        case .frame(let frame):
            try run(frame, from: 0, context: context)
        }
    }

    /// Runs `frame` from instant `start`; a waiting stream stops at the instant whose window it had to hold.
    private func run(_ frame: SampleFrame, from start: Int, context: ChannelHandlerContext) throws(StreamError) {
        guard case .streaming(let pipeline, let publisher) = state else { return }
        guard waitsForWorkers else {
            try pipeline.append(frame) { window in publisher.publish(window) }
            return
        }
        let resume = resumeCallback(context: context)
        let next = try pipeline.append(frame, fromInstant: start) { window in
            if holdsWindow {
                // A second window within one input instant (a model rate far above the input's): one window can
                // be held, so the newer replaces it and the loss is counted.
                publisher.replaceHeld(with: window)
                return false
            }
            holdsWindow = !publisher.publishUnlessPending(window, resume: resume)
            return !holdsWindow
        }
        if holdsWindow { heldFrame = (frame, next) }
    }

    /// What a worker calls, on its own thread, once it took the window this stream's held one waits behind.
    private func resumeCallback(context: ChannelHandlerContext) -> @Sendable () -> Void {
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        return { loop.execute { bound.value.handler.resume(context: bound.value.context) } }
    }

    /// Hands the held window on, runs the input that waited, and reads again, or ends the stream whose input
    /// ended meanwhile.
    private func resume(context: ChannelHandlerContext) {
        guard holdsWindow, case .streaming(_, let publisher) = state else { return }
        guard publisher.publishHeld(resume: resumeCallback(context: context)) else { return }
        holdsWindow = false
        continueAfterWaiting(context: context)
    }

    /// Runs the input that waited, and reads again, or ends the stream whose input ended meanwhile; nothing while
    /// the input still waits.
    private func continueAfterWaiting(context: ChannelHandlerContext) {
        guard !isWaiting else { return }
        var input = heldInput ?? context.channel.allocator.buffer(capacity: 0)
        heldInput = nil
        consumeAndWait(&input, context: context)
        guard !isWaiting, !isClosed else { return }
        if inputEndedWhileWaiting {
            endOfInput(context: context)
        } else {
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    private func open(_ header: StreamHeader) throws(StreamError) {
        let publisher: WindowQueue.Publisher
        let waits = source == .standardInput || header.isRecorded
        do {
            publisher = try shared.queue.open(streamID: header.streamID, waits: waits)
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
        waitsForWorkers = waits
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

    /// Ends the stream, or, while input waits, once the input before the end has gone through.
    /// A producer that half-closed is still paced to the end of its input; one that is gone is read to the end
    /// at once.
    private func endOfInputOnceThrough(context: ChannelHandlerContext, producerGone: Bool = false) {
        pacingEnded = pacingEnded || producerGone
        if producerGone, let pacing = pacingResume {
            pacing.cancel()
            pacingResume = nil
            inputEndedWhileWaiting = true
            continueAfterWaiting(context: context)
            return
        }
        guard !isWaiting else {
            inputEndedWhileWaiting = true
            return
        }
        endOfInput(context: context)
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
            // A window held back for a worker ends with the stream: it was never handed on.
            "ecg.input_samples": "\(statistics.inputSamples)",
            "ecg.windows": "\(statistics.windows - (holdsWindow ? 1 : 0))",
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
