import Glibc
import Stream
import Synchronization

extension WindowQueue {
    /// Which streams are open and which slots are free; guarded by the queue's registry lock.
    ///
    /// There are twice as many slots as streams allowed, because a closed stream keeps its slot until a worker
    /// has taken its last window; a new stream must not be refused for that.
    struct Registry {
        private(set) var activePerShard: [Int]
        private var freeSlots: [Int]
        private var generations: [UInt64]
        private var openIDs: Set<String>
        private let streamLimit: Int

        init(capacity: Int, shardCount: Int) {
            streamLimit = capacity
            activePerShard = Array(repeating: 0, count: shardCount)
            freeSlots = Array((0..<(2 * capacity)).reversed())
            generations = Array(repeating: 0, count: 2 * capacity)
            openIDs = Set(minimumCapacity: capacity)
        }

        static func slotCount(capacity: Int) -> Int { 2 * capacity }

        /// Takes a slot on the least busy shard.
        mutating func open(streamID: String) -> Result<(Ticket, Int), OpenError> {
            guard openIDs.count < streamLimit, let slot = freeSlots.popLast() else {
                return .failure(.full(limit: streamLimit))
            }
            guard openIDs.insert(streamID).inserted else {
                freeSlots.append(slot)
                return .failure(.duplicateID(streamID))
            }
            generations[slot] &+= 1
            let shard = activePerShard.indices.min { activePerShard[$0] < activePerShard[$1] } ?? 0
            activePerShard[shard] += 1
            return .success((Ticket(slot: slot, generation: generations[slot]), shard))
        }

        /// The stream's id may be used again.
        mutating func release(streamID: String, shard: Int) {
            openIDs.remove(streamID)
            activePerShard[shard] -= 1
        }

        /// The slot holds no window anymore.
        mutating func free(slot: Int) {
            freeSlots.append(slot)
        }
    }

    /// The slots of one shard and its FIFO of pending windows; guarded by the shard's lock.
    ///
    /// Arrays are indexed by slot and sized for every slot, so no operation allocates.
    struct ShardState {
        /// Which of the slot's two buffers the producer writes; the other holds the pending window.
        private(set) var stagingIndex: [Int]
        private var hasPending: [Bool]
        private var pendingInfo: [WindowInfo]
        private var skippedSinceDelivery: [Int]
        private var closing: [Bool]
        private var generations: [UInt64]
        private var ready: [Int]
        private var readyHead = 0
        private var readyCount = 0
        private var consumerWaiting = false
        var isStopped = false
        private(set) var statistics = Statistics()

        init(slotCount: Int) {
            stagingIndex = Array(repeating: 0, count: slotCount)
            hasPending = Array(repeating: false, count: slotCount)
            pendingInfo = Array(repeating: Tag.empty.info, count: slotCount)
            skippedSinceDelivery = Array(repeating: 0, count: slotCount)
            closing = Array(repeating: false, count: slotCount)
            generations = Array(repeating: 0, count: slotCount)
            ready = Array(repeating: 0, count: slotCount)
        }

        /// Prepares a slot for a new stream; returns its staging buffer index.
        mutating func reset(ticket: Ticket) -> Int {
            let slot = ticket.slot
            hasPending[slot] = false
            closing[slot] = false
            skippedSinceDelivery[slot] = 0
            generations[slot] = ticket.generation
            return stagingIndex[slot]
        }

        /// Makes the staging buffer the pending window; returns the new staging index and whether to wake the
        /// worker.
        mutating func publish(slot: Int, info: WindowInfo) -> (staging: Int, wake: Bool) {
            var wake = false
            if hasPending[slot] {
                skippedSinceDelivery[slot] += 1
                statistics.skipped += 1
            } else {
                hasPending[slot] = true
                ready[(readyHead + readyCount) % ready.count] = slot
                readyCount += 1
                wake = consumerWaiting
                consumerWaiting = false
            }
            stagingIndex[slot] = 1 - stagingIndex[slot]
            pendingInfo[slot] = info
            statistics.published += 1
            return (stagingIndex[slot], wake)
        }

        /// Marks the slot's stream closed; returns whether the slot can be freed now (nothing pending).
        mutating func close(slot: Int) -> Bool {
            closing[slot] = true
            return !hasPending[slot]
        }

        /// Takes up to `maxBatch` pending windows in FIFO order, calling `copy(slot, pendingBuffer, batchIndex)`
        /// for each; when there are none, notes that the worker is about to wait.
        mutating func take(maxBatch: Int, tags: inout [Tag], copy: (Int, Int, Int) -> Void) -> Int {
            var taken = 0
            while taken < maxBatch, readyCount > 0 {
                let slot = ready[readyHead]
                readyHead = (readyHead + 1) % ready.count
                readyCount -= 1
                copy(slot, 1 - stagingIndex[slot], taken)
                tags[taken] = Tag(
                    info: pendingInfo[slot],
                    skippedBefore: skippedSinceDelivery[slot],
                    ticket: Ticket(slot: slot, generation: generations[slot]),
                    isFinal: closing[slot]
                )
                hasPending[slot] = false
                skippedSinceDelivery[slot] = 0
                taken += 1
            }
            if taken == 0 { consumerWaiting = true }
            statistics.delivered += taken
            return taken
        }
    }

    /// One worker's share: its lock-protected state and its wake-up pipe.
    final class Shard: Sendable {
        let state: Mutex<ShardState>
        private let wakeRead: Int32
        private let wakeWrite: Int32

        init(slotCount: Int) throws(IngestError) {
            state = Mutex(ShardState(slotCount: slotCount))
            var descriptors: [Int32] = [-1, -1]
            guard pipe(&descriptors) == 0 else { throw .system(operation: "pipe", errno: errno) }
            // Glibc's module does not export pipe2; the flags are set right after, before any fork could happen.
            for descriptor in descriptors {
                guard fcntl(descriptor, F_SETFL, O_NONBLOCK) == 0, fcntl(descriptor, F_SETFD, FD_CLOEXEC) == 0 else {
                    let error = errno
                    descriptors.forEach { close($0) }
                    throw .system(operation: "fcntl", errno: error)
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
