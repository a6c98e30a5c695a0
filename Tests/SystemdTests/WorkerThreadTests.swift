import Foundation
import Glibc
import Synchronization
import Testing

@testable import Systemd

@Suite(.timeLimit(.minutes(1))) struct WorkerThreadTests {
    @Test func joinResumesOnceTheBodyHasReturned() async throws {
        let stop = Atomic<Bool>(false)
        let passes = Atomic<Int>(0)
        let heartbeat = Heartbeat(name: "loop")
        let thread = try WorkerThread(name: "test-loop") {
            while !stop.load(ordering: .acquiring) {
                passes.add(1, ordering: .relaxed)
                heartbeat.beat()
                usleep(1000)
            }
            heartbeat.retire()
        }
        while heartbeat.count < 3 {
            await Task.yield()
        }
        #expect(!thread.isFinished)
        stop.store(true, ordering: .releasing)
        await thread.join()
        #expect(thread.isFinished)
        #expect(heartbeat.isRetired)
        #expect(heartbeat.count == UInt64(passes.load(ordering: .relaxed)))
        await thread.join()
    }

    /// Synchronous on purpose: the caller blocks until the body has looked at its thread, so both threads are
    /// alive at once and their `pthread_t`s cannot coincide (glibc reuses an exited thread's, which a cooperative
    /// thread started after the join could be given).
    @Test func bodyRunsOnItsOwnNamedThread() throws {
        let caller = pthread_self()
        let observed = Mutex<(name: String, isCaller: Bool)?>(nil)
        let looked = DispatchSemaphore(value: 0)
        _ = try WorkerThread(name: "ecg-worker-name-too-long") {
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            observed.withLock {
                $0 = (name.trimmingCharacters(in: .newlines), pthread_equal(caller, pthread_self()) != 0)
            }
            looked.signal()
        }
        looked.wait()
        let result = try #require(observed.withLock { $0 })
        #expect(result.name == "ecg-worker-name")
        #expect(!result.isCaller)
    }

    @Test func manyWaitersAllResume() async throws {
        let release = Atomic<Bool>(false)
        let thread = try WorkerThread(name: "waited-on") {
            while !release.load(ordering: .acquiring) {
                usleep(1000)
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { await thread.join() }
            }
            release.store(true, ordering: .releasing)
        }
        #expect(thread.isFinished)
    }
}
