import Glibc
import Synchronization
import Systemd

/// A UNIX stream-socket client that connects, writes and reads with blocking calls on a thread of its own.
///
/// For tests whose daemon side keeps time: the daemon's idle timer runs on NIO's threads, while an async client
/// writes only once the cooperative pool runs it, which the suite's other tests can keep busy for seconds. Here the
/// first byte follows the connection at once.
package enum BlockingStreamClient {
    /// Connects to `socketPath`, writes `bytes` and keeps the connection open, reading until the daemon closes it.
    ///
    /// - Parameter timeoutSeconds: how long one read may wait before the exchange fails (a daemon that never
    ///   closes fails the test instead of hanging it).
    /// - Returns: what the daemon wrote, and the error writing met (the daemon may close before the last byte).
    /// - Throws: ``HarnessError`` when the connection cannot be made or a read fails or times out.
    package static func exchange(
        socketPath: String,
        _ bytes: [UInt8],
        timeoutSeconds: Int = 60
    ) async throws -> (reply: String, writeError: HarnessError?) {
        let outcome = Mutex<Result<(String, HarnessError?), HarnessError>?>(nil)
        let thread = try WorkerThread(name: "socket-client") {
            let result = Result { () throws(HarnessError) in
                try run(socketPath: socketPath, bytes, timeoutSeconds: timeoutSeconds)
            }
            outcome.withLock { $0 = result }
        }
        await thread.join()
        guard let result = outcome.withLock({ $0 }) else {
            throw HarnessError(description: "the socket client thread ended without a result")
        }
        return try result.get()
    }

    private static func run(
        socketPath: String,
        _ bytes: [UInt8],
        timeoutSeconds: Int
    ) throws(HarnessError) -> (String, HarnessError?) {
        let descriptor = try UnixSocketConnection.open(socketPath)
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0
        else { throw failure("setsockopt SO_RCVTIMEO") }
        var writeError: HarnessError?
        var written = 0
        while written < bytes.count {
            // MSG_NOSIGNAL: a daemon that closed first is an answer to read, not a SIGPIPE.
            let count = bytes[written...].withUnsafeBytes {
                send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR { continue }
                writeError = failure("send")
                break
            }
            written += count
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                reply += buffer[..<count]
            } else if count == 0 || errno == ECONNRESET {
                break
            } else if errno != EINTR {
                let reason = errno == EAGAIN ? "no close within \(timeoutSeconds) s" : String(cString: strerror(errno))
                throw HarnessError(description: "reading the daemon's reply: \(reason)")
            }
        }
        return (String(decoding: reply, as: UTF8.self), writeError)
    }

    private static func failure(_ call: String) -> HarnessError {
        HarnessError(description: "\(call): \(String(cString: strerror(errno)))")
    }
}
