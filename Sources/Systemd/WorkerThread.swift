import Glibc
import Synchronization

/// Runs a blocking loop on its own POSIX thread, off Swift's cooperative pool, with an awaitable exit.
///
/// The body owns its stopping: it watches its own stop flag (and wake-up descriptor) and returns; ``join()``
/// then resumes. Typical use in a `Service.run()`:
///
/// ```swift
/// let thread = try WorkerThread(name: "inference-0") { worker.loop() }
/// await withGracefulShutdownHandler { await thread.join() } onGracefulShutdown: { worker.requestStop() }
/// ```
public final class WorkerThread: Sendable {
    /// What the thread's start routine receives: the body and where to report its return.
    private final class Start: Sendable {
        let body: @Sendable () -> Void
        let thread: WorkerThread

        init(body: @escaping @Sendable () -> Void, thread: WorkerThread) {
            self.body = body
            self.thread = thread
        }
    }

    private struct Completion {
        var isFinished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The thread's name (the first 15 bytes are what `ps -L` and `top -H` show).
    public let name: String
    private let completion = Mutex(Completion())

    /// Starts `body` on a new detached thread.
    ///
    /// - Parameters:
    ///   - name: The thread's name.
    ///   - body: The blocking loop; it returns when its owner asks it to stop.
    /// - Throws: ``SystemdError/systemCall(name:errno:)`` when the thread cannot be created.
    ///
    /// The corresponding C function is `pthread_create`.
    public init(name: String, body: @escaping @Sendable () -> Void) throws(SystemdError) {
        self.name = name
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let start = Unmanaged.passRetained(Start(body: body, thread: self)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            &attributes,
            { context in
                guard let context else { return nil }
                let start = Unmanaged<Start>.fromOpaque(context).takeRetainedValue()
                nameCurrentThread(start.thread.name)
                start.body()
                start.thread.finish()
                return nil
            },
            start
        )
        if result != 0 {
            Unmanaged<Start>.fromOpaque(start).release()
            throw .systemCall(name: "pthread_create", errno: result)
        }
    }

    /// Whether the body has returned.
    public var isFinished: Bool {
        completion.withLock { $0.isFinished }
    }

    /// Suspends until the body has returned (at once if it already has).
    ///
    /// - Important: Not cancellable: a cancelled task still waits, because the thread keeps running until its
    ///   body returns. Ask the body to stop first.
    public func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = completion.withLock { state in
                if !state.isFinished {
                    state.waiters.append(continuation)
                }
                return state.isFinished
            }
            if finished {
                continuation.resume()
            }
        }
    }

    private func finish() {
        let waiters = completion.withLock { state in
            state.isFinished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters {
            waiter.resume()
        }
    }
}

/// Names the calling thread (what `ps -L` shows); `pthread_setname_np` is not visible to Swift without
/// `_GNU_SOURCE`, so this writes the kernel's per-thread `comm` file. A name is cosmetic: failures are ignored.
private func nameCurrentThread(_ name: String) {
    let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
}
