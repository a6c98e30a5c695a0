import Alarms
import Foundation
import Stream
import Synchronization
import Testing

@testable import Monitor

@Suite struct WindowQueueTests {
    private func pop(_ queue: WindowQueue, shard: Int = 0, maxBatch: Int = 8) -> [(WindowQueue.Tag, [Float])] {
        let batch = UnsafeMutablePointer<Float>.allocate(capacity: maxBatch * queue.windowValueCount)
        defer { batch.deallocate() }
        var tags = Array(repeating: WindowQueue.Tag.empty, count: maxBatch)
        let count = queue.popBatch(
            shard: shard,
            maxBatch: maxBatch,
            into: batch,
            tags: &tags,
            timeout: .milliseconds(1)
        )
        return tags[0..<count].map { tag in
            (
                tag,
                tag.batchIndex.map { window in
                    Array(
                        UnsafeBufferPointer(
                            start: batch + window * queue.windowValueCount,
                            count: queue.windowValueCount
                        )
                    )
                } ?? []
            )
        }
    }

    @Test func batchesWindowsAcrossStreamsInArrivalOrder() throws {
        let queue = try WindowQueue(capacity: 4, windowValueCount: 10, shardCount: 1)
        let streams = try ["a", "b", "c"].map { ($0, try queue.open(streamID: $0), try WindowFactory(streamID: $0)) }
        for (offset, (_, publisher, factory)) in streams.enumerated().reversed() {
            try factory.publish(Float(offset), to: publisher)
        }
        let popped = pop(queue)
        #expect(popped.map(\.0.info.streamID) == ["c", "b", "a"])
        #expect(
            popped.map(\.1) == [
                Array(repeating: 2, count: 10), Array(repeating: 1, count: 10), Array(repeating: 0, count: 10),
            ]
        )
        #expect(popped.allSatisfy { $0.0.skippedBefore == 0 && !$0.0.isFinal })
        #expect(popped[0].0.info.startSample == 0 && popped[0].0.info.sampleCount == 10)
        #expect(pop(queue).isEmpty)
    }

    /// A worker takes live streams' windows before recorded ones', each kind in arrival order; a stream reusing
    /// the id of a recorded one whose ending is still queued queues as that one did, behind its ending.
    @Test func liveWindowsGoBeforeRecordedOnesAndAReusedIdStaysBehindItsEnding() throws {
        let queue = try WindowQueue(capacity: 6, windowValueCount: 10, shardCount: 1)
        let recordedA = try queue.open(streamID: "recorded-a", waits: true)
        let recordedB = try queue.open(streamID: "recorded-b", waits: true)
        let live = try queue.open(streamID: "live")
        try WindowFactory(streamID: "recorded-a").publish(1, to: recordedA)
        try WindowFactory(streamID: "recorded-b").publish(2, to: recordedB)
        try WindowFactory(streamID: "live").publish(3, to: live)
        #expect(pop(queue).map(\.0.info.streamID) == ["live", "recorded-a", "recorded-b"])
        recordedA.close(ending: .expected)
        let again = try queue.open(streamID: "recorded-a")
        try WindowFactory(streamID: "recorded-a").publish(4, to: again)
        let order = pop(queue).map { ($0.0.info.streamID, $0.0.ending) }
        #expect(order.map(\.0) == ["recorded-a", "recorded-a"])
        #expect(order.first?.1 == .expected && order.last?.1 == nil)
    }

    @Test func recordedStreamWaitsForItsQueuedWindowAndAHeldWindowReplacedIsCounted() throws {
        let queue = try WindowQueue(capacity: 2, windowValueCount: 10, shardCount: 1)
        let publisher = try queue.open(streamID: "s")
        let factory = try WindowFactory(streamID: "s")
        let resumed = Atomic<Int>(0)
        let resume: @Sendable () -> Void = { resumed.add(1, ordering: .relaxed) }
        var published: [Bool] = []
        for value in [1, 2] as [Float] {
            try factory.complete(value) { published.append(publisher.publishUnlessPending($0, resume: resume)) }
        }
        #expect(published == [true, false], "the second window is held while the first is queued")
        try factory.complete(3) { publisher.replaceHeld(with: $0) }
        #expect(resumed.load(ordering: .relaxed) == 0)
        let first = pop(queue)
        #expect(first.map(\.1) == [Array(repeating: 1, count: 10)])
        #expect(resumed.load(ordering: .relaxed) == 1, "taking the queued window resumes the stream")
        #expect(publisher.publishHeld(resume: resume))
        let second = pop(queue)
        #expect(second.map(\.1) == [Array(repeating: 3, count: 10)] && second.first?.0.skippedBefore == 1)
        #expect(queue.statistics.skipped == 1)
    }

    @Test func newestWindowWinsAndTheSkipIsCounted() throws {
        let queue = try WindowQueue(capacity: 2, windowValueCount: 10, shardCount: 1)
        let publisher = try queue.open(streamID: "s")
        let factory = try WindowFactory(streamID: "s")
        for value in [1, 2, 3] as [Float] { try factory.publish(value, to: publisher) }
        let popped = pop(queue)
        #expect(popped.count == 1)
        #expect(popped[0].1 == Array(repeating: 3, count: 10))
        #expect(popped[0].0.skippedBefore == 2)
        #expect(popped[0].0.info.startSample == 20)
        #expect(queue.statistics == WindowQueue.Statistics(published: 3, delivered: 1, skipped: 2))
    }

    @Test func streamLimitAndDuplicateIdsAreRefusedAndFreedOnClose() throws {
        let queue = try WindowQueue(capacity: 2, windowValueCount: 10, shardCount: 1)
        let first = try queue.open(streamID: "a")
        let second = try queue.open(streamID: "b")
        #expect(throws: WindowQueue.OpenError.full(limit: 2)) { try queue.open(streamID: "c") }
        second.close()
        #expect(throws: WindowQueue.OpenError.duplicateID("a")) { try queue.open(streamID: "a") }
        let third = try queue.open(streamID: "c")
        first.close()
        third.close()
        #expect(queue.openStreamsPerShard == [0])
    }

    @Test func closedStreamDeliversItsLastWindowMarkedFinal() throws {
        let queue = try WindowQueue(capacity: 1, windowValueCount: 10, shardCount: 1)
        let publisher = try queue.open(streamID: "s")
        try WindowFactory(streamID: "s").publish(7, to: publisher)
        publisher.close()
        // The id is free at once, while the last window waits in another slot.
        let next = try queue.open(streamID: "s")
        let popped = pop(queue)
        #expect(popped.count == 1 && popped[0].0.isFinal && popped[0].1.first == 7)
        #expect(popped[0].0.ticket != next.ticket)
        next.close()
        // Every slot is free again: twice the capacity can be taken in turn without refusal.
        for round in 0..<4 { try queue.open(streamID: "r\(round)").close() }
    }

    @Test func streamsAreShardedAndEachWorkerSeesOnlyItsOwn() throws {
        let queue = try WindowQueue(capacity: 8, windowValueCount: 10, shardCount: 2)
        let streams = try (0..<4).map { index in
            (try queue.open(streamID: "s\(index)"), try WindowFactory(streamID: "s\(index)"))
        }
        #expect(queue.openStreamsPerShard == [2, 2])
        for (index, (publisher, factory)) in streams.enumerated() { try factory.publish(Float(index), to: publisher) }
        for shard in 0..<2 {
            let popped = pop(queue, shard: shard)
            #expect(popped.count == 2)
            #expect(
                Set(popped.map(\.0.info.streamID))
                    == Set(streams.filter { $0.0.shard == shard }.map { $0.1.pipeline.header.streamID })
            )
        }
    }

    @Test func batchIsLimitedAndTheRestWaitsItsTurn() throws {
        let queue = try WindowQueue(capacity: 5, windowValueCount: 10, shardCount: 1)
        let streams = try (0..<5).map { index in
            (try queue.open(streamID: "s\(index)"), try WindowFactory(streamID: "s\(index)"))
        }
        for (publisher, factory) in streams { try factory.publish(1, to: publisher) }
        #expect(pop(queue, maxBatch: 3).count == 3)
        #expect(pop(queue, maxBatch: 3).map(\.0.info.streamID) == ["s3", "s4"])
    }

    @Test(.timeLimit(.minutes(1)))
    func waitingWorkerWakesWhenAWindowArrives() async throws {
        let queue = try WindowQueue(capacity: 1, windowValueCount: 10, shardCount: 1)
        let collector = WindowCollector(queue: queue, shard: 0)
        let publisher = try queue.open(streamID: "s")
        let factory = try WindowFactory(streamID: "s")
        try factory.publish(5, to: publisher)
        while collector.windows.withLock({ $0.isEmpty }), !Task.isCancelled { await Task.yield() }
        await collector.stop()
        #expect(collector.windows.withLock { $0.map(\.samples) } == [Array(repeating: 5, count: 10)])
    }

    @Test func popReturnsNothingAfterTheTimeoutOrOnceStopped() throws {
        let queue = try WindowQueue(capacity: 1, windowValueCount: 10, shardCount: 1)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(pop(queue).isEmpty)
        #expect(clock.now - start < .seconds(1))
        queue.stop()
        let batch = UnsafeMutablePointer<Float>.allocate(capacity: 10)
        defer { batch.deallocate() }
        var tags = [WindowQueue.Tag.empty]
        let stopped = clock.now
        #expect(queue.popBatch(shard: 0, maxBatch: 1, into: batch, tags: &tags, timeout: .seconds(30)) == 0)
        #expect(clock.now - stopped < .seconds(5))
    }

    @Test func endingFollowsTheLastWindowOnItsTag() throws {
        let queue = try WindowQueue(capacity: 2, windowValueCount: 10, shardCount: 1)
        let publisher = try queue.open(streamID: "s")
        try WindowFactory(streamID: "s").publish(4, to: publisher)
        publisher.close(ending: .expected)
        let popped = pop(queue)
        #expect(popped.count == 1)
        #expect(popped[0].0.batchIndex == 0 && popped[0].1.first == 4)
        #expect(popped[0].0.isFinal && popped[0].0.ending == .expected)
        #expect(pop(queue).isEmpty)
    }

    @Test func endingWithoutAPendingWindowIsAnEntryOfItsOwnInArrivalOrder() throws {
        let queue = try WindowQueue(capacity: 2, windowValueCount: 10, shardCount: 1)
        let first = try queue.open(streamID: "a")
        let second = try queue.open(streamID: "b")
        let factoryA = try WindowFactory(streamID: "a")
        try factoryA.publish(1, to: first)
        #expect(pop(queue).count == 1)
        try WindowFactory(streamID: "b").publish(2, to: second)
        first.close(ending: .stalled)
        let popped = pop(queue)
        #expect(popped.map(\.0.info.streamID) == ["b", "a"])
        #expect(popped[0].0.batchIndex == 0 && popped[0].1.first == 2 && popped[0].0.ending == nil)
        #expect(popped[1].0.batchIndex == nil && popped[1].0.isFinal && popped[1].0.ending == .stalled)
        #expect(queue.statistics.delivered == 2)
        second.close()
        // The slot of "a" was freed when its ending was taken: the pool serves its full size again.
        for round in 0..<4 { try queue.open(streamID: "r\(round)").close() }
    }

    @Test func streamClosedWithoutEndingBeforeAnyWindowLeavesNothingQueued() throws {
        let queue = try WindowQueue(capacity: 1, windowValueCount: 10, shardCount: 1)
        try queue.open(streamID: "s").close()
        #expect(pop(queue).isEmpty)
    }

    @Test func reopenedIdJoinsTheShardStillHoldingItsEnding() throws {
        let queue = try WindowQueue(capacity: 4, windowValueCount: 10, shardCount: 2)
        let old = try queue.open(streamID: "bed")
        old.close(ending: .unexpected)
        let busy = try queue.open(streamID: "busy")
        // The other shard is now the least busy, but the new "bed" must queue behind the old one's ending.
        let reopened = try queue.open(streamID: "bed")
        #expect(busy.shard == old.shard && reopened.shard == old.shard)
        #expect(pop(queue, shard: old.shard).map(\.0.ending) == [.unexpected])
        reopened.close()
        let later = try queue.open(streamID: "bed")
        #expect(later.shard != old.shard)
    }

    @Test(.timeLimit(.minutes(1)))
    func waitingWorkerWakesForAnEnding() async throws {
        let queue = try WindowQueue(capacity: 1, windowValueCount: 10, shardCount: 1)
        let collector = WindowCollector(queue: queue, shard: 0)
        let publisher = try queue.open(streamID: "s")
        // Let the collector start waiting on an empty shard before the ending arrives.
        while !queue.testOnly_isWaiting(shard: 0), !Task.isCancelled { await Task.yield() }
        publisher.close(ending: .expected)
        while collector.endings.withLock({ $0.isEmpty }), !Task.isCancelled { await Task.yield() }
        await collector.stop()
        #expect(collector.endings.withLock { $0.map(\.ending) } == [.expected])
        #expect(collector.windows.withLock { $0.isEmpty })
    }

    @Test func stoppedQueueStillHandsOutWhatWasQueued() throws {
        let queue = try WindowQueue(capacity: 2, windowValueCount: 10, shardCount: 1)
        let publisher = try queue.open(streamID: "s")
        try WindowFactory(streamID: "s").publish(3, to: publisher)
        publisher.close(ending: .unexpected)
        queue.stop()
        #expect(queue.isStopped)
        let popped = pop(queue)
        #expect(popped.count == 1 && popped[0].0.ending == .unexpected && popped[0].1.first == 3)
        #expect(pop(queue).isEmpty)
    }
}
