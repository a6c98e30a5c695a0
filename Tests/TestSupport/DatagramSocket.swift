import Foundation
import Glibc
import Synchronization
import Systemd

/// A failure of the test harness itself, with a message saying what to fix.
package struct HarnessError: Error, CustomStringConvertible {
    package let description: String

    package init(description: String) {
        self.description = description
    }
}

/// A UNIX datagram socket bound to a fresh path in the temporary directory, as `NOTIFY_SOCKET` expects.
package final class DatagramSocket: Sendable {
    package let path: String
    private let descriptor: Int32
    private let unlinkOnClose: Bool

    /// Binds `path` (a fresh temporary one by default); the file is removed on close unless told otherwise.
    package init(path: String? = nil, unlinkOnClose: Bool = true) throws {
        self.path =
            path
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("ecg-notify-\(UUID().uuidString.prefix(8))").path
        self.unlinkOnClose = unlinkOnClose
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError(description: "socket: \(String(cString: strerror(errno)))") }
        let result: Int32
        do {
            result = try UnixSocketConnection.withAddress(self.path) { [descriptor] in bind(descriptor, $0, $1) }
        } catch {
            close(descriptor)
            throw error
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw HarnessError(description: "bind \(self.path): \(message)")
        }
    }

    deinit {
        close(descriptor)
        if unlinkOnClose {
            unlink(path)
        }
    }

    /// The next datagram, or nil when none arrives within `timeoutMilliseconds`.
    package func receive(timeoutMilliseconds: Int32) throws -> String? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, timeoutMilliseconds)
        guard ready > 0 else {
            if ready < 0 && errno != EINTR {
                throw HarnessError(description: "poll: \(String(cString: strerror(errno)))")
            }
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw HarnessError(description: "recv: \(String(cString: strerror(errno)))") }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Every datagram already queued, without waiting.
    package func drain() throws -> [String] {
        var messages: [String] = []
        while let message = try receive(timeoutMilliseconds: 0) {
            messages.append(message)
        }
        return messages
    }

    /// Every datagram received while `operation` runs, read on a thread of its own as they arrive: a sender
    /// blocks once ten datagrams are queued (`net.unix.max_dgram_qlen`), so reading only afterwards could hang.
    package func collect(during operation: () async -> Void) async throws -> [String] {
        let received = Mutex<[String]>([])
        let stop = Mutex(false)
        let outcome = OutcomeBox()
        let reader = try WorkerThread(name: "notify-reader") { [self] in
            do {
                while !stop.withLock({ $0 }) {
                    if let message = try receive(timeoutMilliseconds: 20) {
                        received.withLock { $0.append(message) }
                    }
                }
            } catch {
                outcome.set(error)
            }
        }
        await operation()
        stop.withLock { $0 = true }
        await reader.join()
        if let error = outcome.get() { throw error }
        return received.withLock { $0 } + (try drain())
    }
}
