import Foundation
import Glibc
import Synchronization
import Systemd

/// A real `systemd-journald`, private to one test: a journal namespace of its own, started here and stopped by
/// pid, its files removed afterwards.
///
/// libsystemd's writer always sends to `/run/systemd/journal/socket`. ``write(_:)`` therefore runs the writing
/// code on a thread of its own with a private mount namespace in which the namespace's socket directory is
/// bind-mounted there, the way systemd itself connects a `LogNamespace=` service. Needs root (CI runs as root);
/// without journald or root the tests fail with a message saying so.
///
/// A namespace's journald exits after about 30 s without a stream client, and a test on a busy machine can take
/// longer than that: while it runs, an idle connection to its `stdout` socket keeps it up.
package final class TestJournald {
    package static let binary = "/lib/systemd/systemd-journald"

    package let namespace: String
    private let process: Mutex<Process>
    /// The connection that keeps journald from exiting on idle; -1 while there is none.
    private let keepAlive = Mutex<Int32>(-1)

    /// Starts journald on a fresh namespace and waits for its `READY=1`.
    package init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw HarnessError(
                description: "\(Self.binary) is missing: install the systemd package to run journal tests"
            )
        }
        guard geteuid() == 0 else {
            throw HarnessError(description: "journal tests start their own journald and need root")
        }
        namespace = "ecgtest\(UInt32.random(in: 0...UInt32.max))"
        process = Mutex(Process())
        do {
            try start()
        } catch {
            stop()
            throw error
        }
    }

    /// Runs journald on the namespace and waits for its `READY=1`.
    private func start() throws {
        let notify = try DatagramSocket()
        let journald = Process()
        journald.executableURL = URL(fileURLWithPath: Self.binary)
        journald.arguments = [namespace]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        journald.environment = environment
        journald.standardOutput = FileHandle.nullDevice
        journald.standardError = FileHandle.nullDevice
        try journald.run()
        process.withLock { $0 = journald }
        while true {
            guard let message = try notify.receive(timeoutMilliseconds: 10_000) else {
                throw HarnessError(description: "systemd-journald \(namespace) sent no READY=1 within 10 s")
            }
            if message.split(separator: "\n").contains("READY=1") { break }
        }
        let connection = try UnixSocketConnection.open(socketDirectory + "/stdout")
        keepAlive.withLock { $0 = connection }
    }

    /// Closes the connection that kept journald up.
    private func closeKeepAlive() {
        keepAlive.withLock { descriptor in
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
        }
    }

    /// Stops journald as an outage would (SIGKILL, nothing cleaned up: its socket stays, refusing).
    package func interrupt() {
        closeKeepAlive()
        process.withLock { journald in
            guard journald.isRunning else { return }
            kill(journald.processIdentifier, SIGKILL)
            journald.waitUntilExit()
        }
    }

    /// Starts journald again on the same namespace, its socket and files, after ``interrupt()``.
    package func restart() throws {
        try start()
    }

    deinit {
        stop()
    }

    /// Stops journald (SIGTERM to its pid, then waits) and removes its sockets and journal files.
    package func stop() {
        closeKeepAlive()
        process.withLock { journald in
            guard journald.isRunning else { return }
            kill(journald.processIdentifier, SIGTERM)
            journald.waitUntilExit()
        }
        let machineID =
            (try? String(contentsOfFile: "/etc/machine-id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        for path in [
            "/run/systemd/journal.\(namespace)", "/var/log/journal/\(machineID).\(namespace)",
            "/run/log/journal/\(machineID).\(namespace)",
        ] where !machineID.isEmpty || path.hasPrefix("/run/systemd") {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// The directory holding this journald's sockets, which a client sees as `/run/systemd/journal`.
    package var socketDirectory: String { "/run/systemd/journal.\(namespace)" }

    /// Runs `body` where libsystemd's journal socket is this journald's, and waits for it.
    package func write(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await Self.withJournalSockets(in: socketDirectory, body)
    }

    /// Runs `body` on a thread that sees `sockets` as `/run/systemd/journal`, and waits for it.
    package static func withJournalSockets(in sockets: String, _ body: @escaping @Sendable () throws -> Void)
        async throws
    {
        let stash = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-journal-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: stash, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: stash) }
        let outcome = OutcomeBox()
        let thread = try WorkerThread(name: "journal-writer") {
            do {
                try redirectJournalSocket(from: sockets, via: stash)
                try body()
            } catch {
                outcome.set(error)
            }
        }
        await thread.join()
        if let error = outcome.get() { throw error }
    }

    /// Gives the calling thread a private mount namespace with `sockets` at `/run/systemd/journal`.
    ///
    /// `/run/systemd` is covered by a tmpfs so the host's tree is never touched; `sockets` is first bound to
    /// `stash` so it stays reachable under that tmpfs.
    private static func redirectJournalSocket(from sockets: String, via stash: String) throws {
        // unshare(2) and CLONE_NEWNS are hidden from Swift without _GNU_SOURCE; the kernel ABI value is fixed.
        typealias Unshare = @convention(c) (Int32) -> Int32
        let cloneNewMountNamespace: Int32 = 0x0002_0000
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "unshare") else {
            throw HarnessError(description: "unshare not found in libc")
        }
        let unshare = unsafeBitCast(symbol, to: Unshare.self)
        try check("unshare(CLONE_NEWNS)", unshare(cloneNewMountNamespace))
        try check("make / private", mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil))
        try check("bind \(sockets)", mount(sockets, stash, nil, UInt(MS_BIND), nil))
        try check("tmpfs on /run/systemd", mount("tmpfs", "/run/systemd", "tmpfs", 0, "mode=0755"))
        try check("mkdir /run/systemd/journal", mkdir("/run/systemd/journal", 0o755))
        try check("bind to /run/systemd/journal", mount(stash, "/run/systemd/journal", nil, UInt(MS_BIND), nil))
    }

    private static func check(_ what: String, _ result: Int32) throws {
        guard result == 0 else {
            throw HarnessError(
                description: "\(what) failed: \(String(cString: strerror(errno))); journal tests need root"
            )
        }
    }

    /// Every entry matching `field=value` once everything sent before this call has been stored: a marker entry
    /// sent now through the same socket, which journald reads in order, has to arrive first.
    package func settledEntries(matching field: String, anyOf values: [String]) async throws -> [[String: String]] {
        let marker = "marker-\(UUID().uuidString)"
        try await write { try JournalWriter().send([("MESSAGE", marker), ("ECG_TEST_MARKER", marker)]) }
        _ = try entries(matching: "ECG_TEST_MARKER", anyOf: [marker], count: 1)
        let reader = try JournalReader(source: .namespace(namespace))
        try reader.match(field, anyOf: values)
        try reader.seekHead()
        var entries: [[String: String]] = []
        while try reader.next() {
            entries.append(try reader.fields())
        }
        return entries
    }

    /// Reads entries matching `field=value` until `count` are there or `timeoutSeconds` pass.
    package func entries(
        matching field: String,
        anyOf values: [String],
        count: Int,
        timeoutSeconds: Double = 10
    ) throws
        -> [[String: String]]
    {
        let reader = try JournalReader(source: .namespace(namespace))
        try reader.match(field, anyOf: values)
        try reader.seekHead()
        var entries: [[String: String]] = []
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while entries.count < count {
            while entries.count < count, try reader.next() {
                entries.append(try reader.fields())
            }
            guard entries.count < count else { break }
            guard Date() < deadline else {
                throw HarnessError(
                    description:
                        "journald \(namespace) holds \(entries.count) of \(count) entries after \(timeoutSeconds) s"
                )
            }
            _ = try reader.wait(timeoutMicroseconds: 200_000)
        }
        return entries
    }
}

/// An error handed from a worker thread to the awaiting test.
package final class OutcomeBox: Sendable {
    private let error = Mutex<(any Error)?>(nil)

    package init() {}

    package func set(_ newError: any Error) {
        error.withLock { $0 = newError }
    }

    package func get() -> (any Error)? {
        error.withLock { $0 }
    }
}
