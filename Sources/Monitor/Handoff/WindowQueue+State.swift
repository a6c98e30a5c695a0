import Alarms
import Glibc
import Stream
import Synchronization
import Systemd

extension WindowQueue {
    /// Which streams are open and which slots are free; guarded by the queue's registry lock.
    ///
    /// There are twice as many slots as streams allowed, because a closed stream keeps its slot until a worker
    /// has taken its last entry; a new stream must not be refused for that.
    struct Registry {
        private(set) var activePerShard: [Int]
        private var freeSlots: [Int]
        private var generations: [UInt64]
        private var openIDs: Set<String>
        /// Closed streams whose last entry is still queued, by id: the shard, and how many such streams.
        private var awaitingFinalEntry: [String: (shard: Int, count: Int)] = [:]
        private let streamLimit: Int

        init(capacity: Int, shardCount: Int) {
            streamLimit = capacity
            activePerShard = Array(repeating: 0, count: shardCount)
            freeSlots = Array((0..<(2 * capacity)).reversed())
            generations = Array(repeating: 0, count: 2 * capacity)
            openIDs = Set(minimumCapacity: capacity)
        }

        static func slotCount(capacity: Int) -> Int { 2 * capacity }

        /// Takes a slot on the least busy shard, or on the shard still holding the last entry of a closed stream
        /// with the same id, so that the new stream's windows queue behind the old one's ending.
        mutating func open(streamID: String) -> Result<(Ticket, Int), OpenError> {
            guard openIDs.count < streamLimit, let slot = freeSlots.popLast() else {
                return .failure(.full(limit: streamLimit))
            }
            guard openIDs.insert(streamID).inserted else {
                freeSlots.append(slot)
                return .failure(.duplicateID(streamID))
            }
            generations[slot] &+= 1
            let shard =
                awaitingFinalEntry[streamID]?.shard
                ?? activePerShard.indices.min { activePerShard[$0] < activePerShard[$1] } ?? 0
            activePerShard[shard] += 1
            return .success((Ticket(slot: slot, generation: generations[slot]), shard))
        }

        /// The stream's id may be used again; `awaitingFinalEntry` when its last entry is still queued.
        mutating func release(streamID: String, shard: Int, awaitingFinalEntry awaiting: Bool) {
            openIDs.remove(streamID)
            activePerShard[shard] -= 1
            if awaiting {
                awaitingFinalEntry[streamID, default: (shard, 0)].count += 1
            }
        }

        /// A worker took the last entry of a closed stream with this id.
        mutating func finalEntryTaken(streamID: String) {
            guard let entry = awaitingFinalEntry[streamID] else { return }
            awaitingFinalEntry[streamID] = entry.count > 1 ? (entry.shard, entry.count - 1) : nil
        }

        /// The slot holds no window anymore.
        mutating func free(slot: Int) {
            freeSlots.append(slot)
        }
    }

    /// A FIFO of slots, allocated once for every slot of a shard.
    struct SlotRing {
        private var slots: [Int]
        private var head = 0
        private(set) var count = 0

        init(capacity: Int) {
            slots = Array(repeating: 0, count: capacity)
        }

        mutating func push(_ slot: Int) {
            slots[(head + count) % slots.count] = slot
            count += 1
        }

        mutating func pop() -> Int? {
            guard count > 0 else { return nil }
            let slot = slots[head]
            head = (head + 1) % slots.count
            count -= 1
            return slot
        }
    }

    /// The slots of one shard and its two FIFOs of pending entries (windows, stream endings): live streams'
    /// and waiting (recorded) streams'; guarded by the shard's lock.
    ///
    /// Arrays are indexed by slot and sized for every slot, so no operation allocates. A slot is in one FIFO at
    /// most once: with its pending window, its ending, or both. A worker takes live entries first: a live
    /// stream is read no faster than real time, so it cannot starve the recorded ones, which can wait and
    /// would otherwise put their windows between a bedside stream and its alarm.
    struct ShardState {
        /// Which of the slot's two buffers the producer writes; the other holds the pending window.
        private(set) var stagingIndex: [Int]
        private var hasPending: [Bool]
        private var holdsWindow: [Bool]
        private var pendingInfo: [WindowInfo]
        private var publishedAt: [ContinuousClock.Instant]
        private var skippedSinceDelivery: [Int]
        private var closing: [Bool]
        private var endings: [StreamEnding?]
        private var generations: [UInt64]
        /// Per slot, what to call once its pending entry is taken: a recorded stream waiting to publish.
        private var resumes: [(@Sendable () -> Void)?]
        /// Per slot: its stream waits for the workers (recorded), so its entries queue behind live ones.
        private var waits: [Bool]
        private var live: SlotRing
        private var waiting: SlotRing
        private(set) var consumerWaiting = false
        var isStopped = false
        private(set) var statistics = Statistics()

        init(slotCount: Int) {
            stagingIndex = Array(repeating: 0, count: slotCount)
            hasPending = Array(repeating: false, count: slotCount)
            holdsWindow = Array(repeating: false, count: slotCount)
            pendingInfo = Array(repeating: Tag.empty.info, count: slotCount)
            publishedAt = Array(repeating: Tag.empty.publishedAt, count: slotCount)
            skippedSinceDelivery = Array(repeating: 0, count: slotCount)
            closing = Array(repeating: false, count: slotCount)
            endings = Array(repeating: nil, count: slotCount)
            generations = Array(repeating: 0, count: slotCount)
            resumes = Array(repeating: nil, count: slotCount)
            waits = Array(repeating: false, count: slotCount)
            live = SlotRing(capacity: slotCount)
            waiting = SlotRing(capacity: slotCount)
        }

        /// Prepares a slot for a new stream that waits for the workers or not; returns its staging buffer index.
        ///
        /// A stream reusing the id of one whose last entry is still queued in this shard queues as that one did,
        /// so that the alarm side still sees the old stream's end before the new stream's first window.
        mutating func reset(ticket: Ticket, streamID: String, waits streamWaits: Bool) -> Int {
            let slot = ticket.slot
            let predecessor = pendingInfo.indices.first { other in
                other != slot && closing[other] && hasPending[other] && pendingInfo[other].streamID == streamID
            }
            waits[slot] = predecessor.map { waits[$0] } ?? streamWaits
            hasPending[slot] = false
            holdsWindow[slot] = false
            closing[slot] = false
            endings[slot] = nil
            resumes[slot] = nil
            skippedSinceDelivery[slot] = 0
            generations[slot] = ticket.generation
            // What an ending's tag carries if the stream closes before its first window.
            pendingInfo[slot] = WindowInfo(
                streamID: streamID,
                startSample: 0,
                sampleCount: 0,
                sampleRateHz: 1,
                quality: .clean
            )
            return stagingIndex[slot]
        }

        /// Notes the slot's newest window as pending, counting the one it replaces; returns the index of the pending
        /// buffer, which must hold the window before the lock is released, and whether to wake the worker.
        mutating func publish(
            slot: Int,
            info: WindowInfo,
            at instant: ContinuousClock.Instant
        ) -> (pending: Int, wake: Bool) {
            var wake = false
            if hasPending[slot] {
                skippedSinceDelivery[slot] += 1
                statistics.skipped += 1
            } else {
                wake = enqueue(slot)
            }
            holdsWindow[slot] = true
            pendingInfo[slot] = info
            publishedAt[slot] = instant
            statistics.published += 1
            return (1 - stagingIndex[slot], wake)
        }

        /// Makes the slot's staging buffer its pending one and the other its staging one; returns the new staging
        /// index.
        mutating func swapBuffers(slot: Int) -> Int {
            stagingIndex[slot] = 1 - stagingIndex[slot]
            return stagingIndex[slot]
        }

        /// Whether the slot holds a window no worker has taken yet; if so, `resume` is called (outside the lock)
        /// once one has, and the caller must not publish until then.
        mutating func mustWait(slot: Int, resume: @escaping @Sendable () -> Void) -> Bool {
            guard hasPending[slot] else { return false }
            resumes[slot] = resume
            return true
        }

        /// Counts windows of the slot's stream lost before they reached the queue, on its pending window's tag.
        mutating func countLost(slot: Int, count: Int) {
            skippedSinceDelivery[slot] += count
            statistics.skipped += count
        }

        /// Marks the slot's stream closed with `ending`, queueing the ending when no window is pending to carry
        /// it; returns whether the slot can be freed now (nothing queued) and whether to wake the worker.
        mutating func close(slot: Int, ending: StreamEnding?) -> (freeNow: Bool, wake: Bool) {
            closing[slot] = true
            endings[slot] = ending
            if hasPending[slot] { return (false, false) }
            guard ending != nil else { return (true, false) }
            return (false, enqueue(slot))
        }

        /// Appends the slot to its FIFO; returns whether the worker is waiting and must be woken.
        private mutating func enqueue(_ slot: Int) -> Bool {
            hasPending[slot] = true
            if waits[slot] {
                waiting.push(slot)
            } else {
                live.push(slot)
            }
            defer { consumerWaiting = false }
            return consumerWaiting
        }

        /// Takes up to `maxBatch` pending entries, live ones first, each FIFO in order, calling
        /// `copy(slot, pendingBuffer, batchIndex)` for each window; when there are none, notes that the worker is
        /// about to wait.
        mutating func take(
            maxBatch: Int,
            tags: inout [Tag],
            resumed: inout [@Sendable () -> Void],
            copy: (Int, Int, Int) -> Void
        ) -> Int {
            var taken = 0
            var windows = 0
            while taken < maxBatch, let slot = live.pop() ?? waiting.pop() {
                var batchIndex: Int?
                if holdsWindow[slot] {
                    copy(slot, 1 - stagingIndex[slot], windows)
                    batchIndex = windows
                    windows += 1
                }
                tags[taken] = Tag(
                    info: pendingInfo[slot],
                    batchIndex: batchIndex,
                    skippedBefore: skippedSinceDelivery[slot],
                    ticket: Ticket(slot: slot, generation: generations[slot]),
                    isFinal: closing[slot],
                    ending: closing[slot] ? endings[slot] : nil,
                    publishedAt: publishedAt[slot]
                )
                hasPending[slot] = false
                holdsWindow[slot] = false
                skippedSinceDelivery[slot] = 0
                if let resume = resumes[slot] {
                    resumed.append(resume)
                    resumes[slot] = nil
                }
                taken += 1
            }
            if taken == 0 { consumerWaiting = true }
            statistics.delivered += windows
            return taken
        }
    }

    /// One worker's share: its lock-protected state and its wake-up pipe.
    final class Shard: Sendable {
        let state: Mutex<ShardState>
        private let wakeRead: Int32
        private let wakeWrite: Int32

        init(slotCount: Int) throws(SystemdError) {
            state = Mutex(ShardState(slotCount: slotCount))
            var descriptors: [Int32] = [-1, -1]
            guard pipe(&descriptors) == 0 else { throw .systemCall(name: "pipe", errno: errno) }
            // Glibc's module does not export pipe2; the flags are set right after, before any fork could happen.
            for descriptor in descriptors {
                guard fcntl(descriptor, F_SETFL, O_NONBLOCK) == 0, fcntl(descriptor, F_SETFD, FD_CLOEXEC) == 0 else {
                    let error = errno
                    for opened in descriptors { close(opened) }
                    throw .systemCall(name: "fcntl", errno: error)
                }
            }
            wakeRead = descriptors[0]
            wakeWrite = descriptors[1]
        }

        deinit {
            close(wakeRead)
            close(wakeWrite)
        }

        /// Wakes the shard's worker; a full pipe already means "wake up", so EAGAIN is fine.
        func wake() {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }

        /// Sleeps until ``wake()`` or the timeout, then drains the pipe.
        func waitForWakeUp(timeout: Duration) {
            let (seconds, attoseconds) = timeout.components
            let milliseconds = max(
                1,
                min(Int64(Int32.max), seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            )
            var descriptor = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
            // EINTR or a timeout: the caller re-checks and waits again as needed.
            _ = poll(&descriptor, 1, Int32(milliseconds))
            var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            while withUnsafeMutableBytes(of: &scratch, { read(wakeRead, $0.baseAddress, $0.count) }) > 0 {}
        }
    }
}
