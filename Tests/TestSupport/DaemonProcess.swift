import Foundation
import Glibc
import Synchronization
import Systemd

/// A list that threads append to and tests read.
package final class LockedList<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    package init() {}

    package func append(_ item: Element) { items.withLock { $0.append(item) } }

    package var all: [Element] { items.withLock { $0 } }
}

/// Lines a child process writes to one of its outputs, read on a thread of their own as they arrive.
package final class LineRecorder: Sendable {
    /// One line and when the test process read it.
    package struct Line: Sendable {
        package let text: String
        package let arrival: ContinuousClock.Instant
    }

    private let recorded = LockedList<Line>()
    private let chunks = LockedList<Data>()
    private let reader: WorkerThread

    /// Starts reading `handle` until its end.
    package init(_ handle: FileHandle, name: String) throws {
        let (recorded, chunks) = (recorded, chunks)
        reader = try WorkerThread(name: name) {
            var pending: [UInt8] = []
            while true {
                let data = handle.availableData
                guard !data.isEmpty else { break }
                chunks.append(data)
                for byte in data {
                    if byte == UInt8(ascii: "\n") {
                        let line = Line(text: String(decoding: pending, as: UTF8.self), arrival: .now)
                        recorded.append(line)
                        pending.removeAll(keepingCapacity: true)
                    } else {
                        pending.append(byte)
                    }
                }
            }
        }
    }

    /// Every line so far.
    package var lines: [Line] { recorded.all }

    /// Every byte so far, for binary output.
    package var bytes: [UInt8] { chunks.all.flatMap { [UInt8]($0) } }

    /// Returns the lines once `done` holds for them, or throws after `timeout`.
    @discardableResult
    package func wait(
        timeout: Duration = .seconds(60),
        _ what: String,
        until done: ([Line]) -> Bool
    ) async throws -> [Line] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let lines = self.lines
            if done(lines) { return lines }
            guard ContinuousClock.now < deadline else {
                throw HarnessError(description: "no \(what) within \(timeout); lines: \(lines.map(\.text))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits for the output to end (the process closed it).
    package func finish() async {
        await reader.join()
    }
}

/// `sd_notify` messages sent to a socket the test owns, read as they arrive.
package final class NotifyRecorder: Sendable {
    package let socket: DatagramSocket
    private let recorded = LockedList<String>()
    private let stopped = LockedList<Bool>()
    private let reader: WorkerThread

    package init() throws {
        let socket = try DatagramSocket()
        self.socket = socket
        let (recorded, stopped) = (recorded, stopped)
        reader = try WorkerThread(name: "notify-reader") {
            while stopped.all.isEmpty {
                if let message = try? socket.receive(timeoutMilliseconds: 20) {
                    recorded.append(message)
                }
            }
        }
    }

    /// Every message so far.
    package var messages: [String] { recorded.all }

    /// Returns once a message starts with `prefix`, or throws after `timeout`.
    package func wait(for prefix: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !messages.contains(where: { $0.hasPrefix(prefix) }) {
            guard ContinuousClock.now < deadline else {
                throw HarnessError(description: "no \(prefix) within \(timeout); messages: \(messages)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops reading.
    package func stop() async {
        stopped.append(true)
        await reader.join()
    }
}

/// The built `ecg-monitor` binary run as a child process, its output recorded, optionally writing to a test's
/// own journald: the child then runs in a private mount namespace where that journald's socket directory is
/// `/run/systemd/journal` (as systemd connects a `LogNamespace=` service), set up by `unshare` and `mount`.
package final class DaemonProcess {
    package let process = Process()
    package let output: LineRecorder
    package let errors: LineRecorder
    package let input: Pipe?

    /// The binary beside the test bundle (`swift build --build-tests` builds both).
    package static func binaryPath() throws -> String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let path = directory.appendingPathComponent("ecg-monitor").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError(description: "\(path) is missing: build it first with `swift build --build-tests`")
        }
        return path
    }

    /// Starts `ecg-monitor` with `arguments`, or `executable` with them (a shell, say).
    ///
    /// - Parameters:
    ///   - executable: A program to run instead of `ecg-monitor` (which it finds as ``binaryPath()``).
    ///   - environment: Added to a copy of the test's environment cleared of systemd and `ECG_MONITOR_` variables.
    ///   - journal: The journald the child writes to; nil for the host's (or none).
    ///   - stash: An empty directory of the test's own that the child's private namespace may mount over.
    ///   - standardInput: Whether the test writes the child's standard input (``input``).
    package init(
        _ arguments: [String],
        executable: String? = nil,
        environment: [String: String] = [:],
        journal: TestJournald? = nil,
        stash: String? = nil,
        standardInput: Bool = false
    ) throws {
        let binary = try Self.binaryPath()
        var base = ProcessInfo.processInfo.environment.filter { name, _ in
            !name.hasPrefix("ECG_MONITOR_") && !name.hasPrefix("LISTEN_") && !name.hasPrefix("WATCHDOG_")
                && !["NOTIFY_SOCKET", "JOURNAL_STREAM"].contains(name)
        }
        base.merge(environment) { _, new in new }
        process.environment = base
        if let journal, let stash {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            let script = """
                mount --bind "$1" "$2" && mount -t tmpfs -o mode=0755 tmpfs /run/systemd && \
                mkdir /run/systemd/journal && mount --bind "$2" /run/systemd/journal && shift 2 && exec "$@"
                """
            process.arguments =
                ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", journal.socketDirectory, stash]
                + [binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable ?? binary)
            process.arguments = arguments
        }
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        input = standardInput ? Pipe() : nil
        if let input { process.standardInput = input }
        try process.run()
        output = try LineRecorder(outputPipe.fileHandleForReading, name: "daemon-stdout")
        errors = try LineRecorder(errorPipe.fileHandleForReading, name: "daemon-stderr")
    }

    /// The child's process id.
    package var processIdentifier: Int32 { process.processIdentifier }

    /// Sends `signal` to the child.
    package func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the child to exit (killing it after `timeout`) and for its outputs to end; returns its status.
    package func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw HarnessError(description: "ecg-monitor did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        await output.finish()
        await errors.finish()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
