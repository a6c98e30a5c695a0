import Alarms
import Glibc
import Stream
import Synchronization
import Systemd

/// Hands completed windows from ingest to the inference workers without allocating, newest window per stream
/// first, batched across streams.
///
/// Layout: every stream holds a slot, chosen at ``open(streamID:)`` from a fixed pool (the stream limit), and every
/// slot owns two window buffers, allocated with the queue and page-aligned, so that a buffer becomes resident only
/// once written: *pending*, the window waiting for a worker, and *staging*, where a recorded stream's producer keeps a
/// window held back until the worker took the previous one. A live stream's window is copied into pending under the
/// lock of the slot's shard (a few microseconds), so its staging pages are never touched and cost no memory; if
/// pending still held an undelivered window, that older window is overwritten and counted (``Tag/skippedBefore``),
/// so under overload every stream's newest window wins and the event loop never waits for a worker.
///
/// Streams are sharded across workers: a stream joins the shard serving the fewest streams, and worker k
/// only ever calls ``popBatch(shard:maxBatch:into:tags:timeout:)`` with `shard: k`. A stream closed with an
/// ``StreamEnding`` reaches its worker too, after its last window (on that window's tag, or as an entry of its own
/// when no window is pending), so everything the alarm side learns about one stream passes through one FIFO
/// in order; a new stream reusing the id of one whose ending is still queued joins the same shard, behind it.
/// A shard has one `Synchronization.Mutex`, a FIFO of slots holding a pending entry, and a wake-up pipe that
/// the producer writes only when its worker is waiting. The worker copies the windows into its batch under the
/// lock (one `memcpy` of `leads × samples` floats each, about a microsecond), so a slot is never read and reused
/// at the same time.
final class WindowQueue: Sendable {
    /// Identifies a stream's slot; the generation tells apart streams that used the same slot.
    struct Ticket: Sendable, Hashable {
        let slot: Int
        let generation: UInt64
    }

    /// What a worker learns about each entry of its batch: a window, a stream's ending, or both.
    struct Tag: Sendable {
        /// Stream id, stream-time span and signal quality of the window; for an ending without a window, the
        /// stream's previous window (or an empty one) with the right stream id.
        var info: WindowInfo
        /// Where the window's samples are in the batch; nil for an ending without a window.
        var batchIndex: Int?
        /// Windows of this stream dropped since the previous one delivered, because a newer one replaced them.
        var skippedBefore: Int
        /// The stream's slot.
        var ticket: Ticket
        /// Whether the stream has closed and this is its last entry.
        var isFinal: Bool
        /// How the stream ended, on its last entry when it was closed with an ending.
        var ending: StreamEnding?
        /// When the window was published (its last sample had just been computed).
        var publishedAt: ContinuousClock.Instant

        /// A placeholder to fill a worker's tag array with before its first batch.
        static let empty = Tag(
            info: WindowInfo(streamID: "", startSample: 0, sampleCount: 0, sampleRateHz: 1, quality: .clean),
            batchIndex: nil,
            skippedBefore: 0,
            ticket: Ticket(slot: -1, generation: 0),
            isFinal: false,
            ending: nil,
            publishedAt: ContinuousClock.Instant.now
        )
    }

    /// Why a stream could not be opened.
    enum OpenError: Error, Equatable {
        /// Every slot is taken.
        case full(limit: Int)
        /// Another open stream has this id.
        case duplicateID(String)
    }

    /// Counts since the queue was created.
    struct Statistics: Sendable, Equatable {
        var published = 0
        var delivered = 0
        var skipped = 0
    }

    /// Floats per window: leads × samples.
    let windowValueCount: Int
    /// Floats from one buffer to the next: the window rounded up to whole pages.
    private let bufferStride: Int
    /// Streams that can be open at once (the pool holds twice as many slots, see ``Registry``).
    let capacity: Int
    /// Number of shards (inference workers).
    let shardCount: Int

    // The buffers are shared memory whose ownership the locks hand over: a slot's staging buffer is touched
    // only by its producer (one event loop), its pending buffer only under its shard's lock.
    nonisolated(unsafe) private let buffers: UnsafeMutablePointer<Float>
    private static let pageBytes = 4096
    private let registry: Mutex<Registry>
    private let shards: [Shard]
    private let stopped = Atomic<Bool>(false)

    /// Allocates every buffer.
    ///
    /// - Parameters:
    ///   - capacity: streams open at once, at least 1.
    ///   - windowValueCount: floats per window (`[leads][samples]`).
    ///   - shardCount: inference workers, at least 1.
    /// - Throws: ``SystemdError/systemCall(name:errno:)`` if a wake-up pipe cannot be created.
    init(capacity: Int, windowValueCount: Int, shardCount: Int) throws(SystemdError) {
        precondition(capacity >= 1 && windowValueCount >= 1 && shardCount >= 1, "queue dimensions must be positive")
        self.capacity = capacity
        self.windowValueCount = windowValueCount
        self.shardCount = shardCount
        let slotCount = Registry.slotCount(capacity: capacity)
        // Left uninitialised: a window is always copied in before it is read, and untouched pages cost no
        // memory, so only the buffers streams have written become resident, not the whole pool the limit allows.
        let pageFloats = Self.pageBytes / MemoryLayout<Float>.stride
        bufferStride = (windowValueCount + pageFloats - 1) / pageFloats * pageFloats
        buffers = UnsafeMutableRawPointer.allocate(
            byteCount: slotCount * 2 * bufferStride * MemoryLayout<Float>.stride,
            alignment: Self.pageBytes
        ).bindMemory(to: Float.self, capacity: slotCount * 2 * bufferStride)
        registry = Mutex(Registry(capacity: capacity, shardCount: shardCount))
        var shards: [Shard] = []
        for _ in 0..<shardCount {
            shards.append(try Shard(slotCount: slotCount))
        }
        self.shards = shards
    }

    deinit {
        UnsafeMutableRawPointer(buffers).deallocate()
    }

    // MARK: - Producer side

    /// Reserves a slot for a stream; a stream that `waits` for the workers (recorded) queues behind live ones.
    ///
    /// - Throws: ``OpenError`` when the pool is full or the id is in use.
    func open(streamID: String, waits: Bool = false) throws(OpenError) -> Publisher {
        let result = registry.withLock { registry -> Result<(Ticket, Int), OpenError> in
            registry.open(streamID: streamID)
        }
        let (ticket, shard) = try result.get()
        let staging = shards[shard].state.withLock { state in
            state.reset(ticket: ticket, streamID: streamID, waits: waits)
        }
        return Publisher(queue: self, ticket: ticket, shard: shard, streamID: streamID, stagingBuffer: staging)
    }

    /// The producer's handle on its slot; not thread-safe: one stream, one event loop.
    final class Publisher {
        /// The stream's slot.
        let ticket: Ticket
        /// The shard, hence the worker, serving the stream.
        let shard: Int
        private let queue: WindowQueue
        private let streamID: String
        private var stagingBuffer: Int
        /// The window in the staging buffer that ``publishUnlessPending(_:resume:)`` held back.
        private var stagedInfo: WindowInfo?
        /// Held windows replaced by newer ones, counted on the held window's tag once it is published.
        private var lostWhileHeld = 0
        private var isClosed = false

        fileprivate init(queue: WindowQueue, ticket: Ticket, shard: Int, streamID: String, stagingBuffer: Int) {
            self.queue = queue
            self.ticket = ticket
            self.shard = shard
            self.streamID = streamID
            self.stagingBuffer = stagingBuffer
        }

        deinit {
            close()
        }

        /// Copies `window` into the slot's pending buffer, replacing an older window still pending.
        ///
        /// - Complexity: one copy of the window under the shard's lock, no allocation.
        func publish(_ window: StreamWindow) {
            precondition(!isClosed && stagedInfo == nil, "publishing to a closed stream or over a held window")
            let now = ContinuousClock.Instant.now
            let wake = queue.shards[shard].state.withLock { state in
                let (pending, wake) = state.publish(slot: ticket.slot, info: window.info, at: now)
                window.copySamples(into: queue.buffer(slot: ticket.slot, index: pending))
                return wake
            }
            if wake { queue.shards[shard].wake() }
        }

        /// Copies `window` into the slot and makes it the pending window, unless the previous one still waits
        /// for a worker: then the copy is held back, `resume` is called (on a worker's thread) once a worker took
        /// the previous one, and ``publishHeld(resume:)`` hands it on. For producers that can wait (recordings),
        /// which so lose no window.
        ///
        /// - Returns: Whether the window was published; if not, no other window may be published before it.
        func publishUnlessPending(_ window: StreamWindow, resume: @escaping @Sendable () -> Void) -> Bool {
            precondition(!isClosed && stagedInfo == nil, "publishing to a closed stream or over a held window")
            window.copySamples(into: queue.buffer(slot: ticket.slot, index: stagingBuffer))
            stagedInfo = window.info
            return publishHeld(resume: resume)
        }

        /// Replaces the held window with `window`, counting the older one as lost: a second window completed
        /// before the held one could be handed on (one input instant making two model-rate windows).
        func replaceHeld(with window: StreamWindow) {
            precondition(!isClosed && stagedInfo != nil, "no window is held")
            window.copySamples(into: queue.buffer(slot: ticket.slot, index: stagingBuffer))
            stagedInfo = window.info
            lostWhileHeld += 1
        }

        /// Publishes the window ``publishUnlessPending(_:resume:)`` held back, unless the previous one is still
        /// pending (then `resume` is called once it is taken).
        ///
        /// - Returns: Whether it was published.
        func publishHeld(resume: @escaping @Sendable () -> Void) -> Bool {
            guard let info = stagedInfo else { return true }
            let now = ContinuousClock.Instant.now
            let lost = lostWhileHeld
            let published = queue.shards[shard].state.withLock { state -> (staging: Int, wake: Bool)? in
                guard !state.mustWait(slot: ticket.slot, resume: resume) else { return nil }
                let wake = state.publish(slot: ticket.slot, info: info, at: now).wake
                state.countLost(slot: ticket.slot, count: lost)
                return (state.swapBuffers(slot: ticket.slot), wake)
            }
            guard let (staging, wake) = published else { return false }
            stagedInfo = nil
            lostWhileHeld = 0
            stagingBuffer = staging
            if wake { queue.shards[shard].wake() }
            return true
        }

        /// Ends the stream: its id is free again at once; its slot once its last entry is taken.
        ///
        /// - Parameter ending: how the stream ended, delivered to the worker after the last window; nil for a
        ///   stream the alarm side never heard of (refused while opening), which needs no ending.
        func close(ending: StreamEnding? = nil) {
            guard !isClosed else { return }
            isClosed = true
            let (freeNow, wake) = queue.shards[shard].state.withLock { state in
                state.close(slot: ticket.slot, ending: ending)
            }
            queue.registry.withLock { registry in
                registry.release(streamID: streamID, shard: shard, awaitingFinalEntry: !freeNow)
                if freeNow { registry.free(slot: ticket.slot) }
            }
            if wake { queue.shards[shard].wake() }
        }
    }

    // MARK: - Consumer side

    /// Waits for entries of one shard (windows, stream endings) and takes up to `maxBatch` of them, copying
    /// their windows into a batch.
    ///
    /// - Parameters:
    ///   - shard: the caller's shard; one caller per shard.
    ///   - maxBatch: at most this many entries, at least 1.
    ///   - batch: receives `[w][leads][samples]` floats for the w entries holding a window, in entry order
    ///     (``Tag/batchIndex``); room for `maxBatch` windows.
    ///   - tags: receives the n entries' tags in `tags[0..<n]`, in arrival order; must hold at least `maxBatch`
    ///     elements.
    ///   - timeout: how long to wait when nothing is pending, so the caller can tick a heartbeat and check
    ///     its stop flag.
    /// - Returns: n, the entries taken; 0 after the timeout, or at once when nothing is pending after
    ///   ``stop()``.
    /// - Complexity: O(n · window) copying; allocates nothing.
    func popBatch(
        shard: Int,
        maxBatch: Int,
        into batch: UnsafeMutablePointer<Float>,
        tags: inout [Tag],
        timeout: Duration
    ) -> Int {
        precondition(maxBatch >= 1 && tags.count >= maxBatch, "tags must have room for a full batch")
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            var resumed: [@Sendable () -> Void] = []
            let taken = shards[shard].state.withLock { state in
                state.take(maxBatch: maxBatch, tags: &tags, resumed: &resumed) { slot, pendingBuffer, batchIndex in
                    (batch + batchIndex * windowValueCount).update(
                        from: buffer(slot: slot, index: pendingBuffer),
                        count: windowValueCount
                    )
                }
            }
            // Outside the lock: a waiting recorded stream's reader gets its turn on its own event loop.
            for resume in resumed { resume() }
            if taken > 0 {
                for index in 0..<taken where tags[index].isFinal {
                    let slot = tags[index].ticket.slot
                    let streamID = tags[index].info.streamID
                    registry.withLock { registry in
                        registry.free(slot: slot)
                        registry.finalEntryTaken(streamID: streamID)
                    }
                }
                return taken
            }
            if shards[shard].state.withLock({ $0.isStopped }) { return 0 }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else { return 0 }
            shards[shard].waitForWakeUp(timeout: remaining)
        }
    }

    /// Makes every waiting and future ``popBatch(shard:maxBatch:into:tags:timeout:)`` return promptly once
    /// nothing is pending: what was queued before is still handed out, so workers can drain.
    func stop() {
        stopped.store(true, ordering: .releasing)
        for shard in shards {
            shard.state.withLock { $0.isStopped = true }
            shard.wake()
        }
    }

    /// Whether ``stop()`` was called. A worker that reads it before a pop returning 0 has drained its shard.
    var isStopped: Bool {
        stopped.load(ordering: .acquiring)
    }

    /// Counts over all shards.
    var statistics: Statistics {
        shards.reduce(into: Statistics()) { total, shard in
            let counts = shard.state.withLock { $0.statistics }
            total.published += counts.published
            total.delivered += counts.delivered
            total.skipped += counts.skipped
        }
    }

    /// Streams open now, per shard.
    var openStreamsPerShard: [Int] {
        registry.withLock { $0.activePerShard }
    }

    /// Whether the worker of `shard` is waiting for an entry; for tests that must act while it waits.
    func testOnly_isWaiting(shard: Int) -> Bool {
        shards[shard].state.withLock { $0.consumerWaiting }
    }

    private func buffer(slot: Int, index: Int) -> UnsafeMutablePointer<Float> {
        buffers + (slot * 2 + index) * bufferStride
    }
}
