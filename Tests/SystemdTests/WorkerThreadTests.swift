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

    @Test func bodyRunsOnItsOwnNamedThread() async throws {
        let observed = Mutex<(name: String, thread: pthread_t)?>(nil)
        let thread = try WorkerThread(name: "ecg-worker-name-too-long") {
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            observed.withLock { $0 = (name.trimmingCharacters(in: .newlines), pthread_self()) }
        }
        await thread.join()
        let result = try #require(observed.withLock { $0 })
        #expect(result.name == "ecg-worker-name")
        #expect(pthread_equal(result.thread, pthread_self()) == 0)
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
