import Glibc

/// Writes whole texts to a file descriptor: partial writes looped, `EINTR` retried.
public struct FileDescriptorOutput: Sendable {
    /// Standard output.
    public static let standardOutput = FileDescriptorOutput(descriptor: STDOUT_FILENO)
    /// Standard error.
    public static let standardError = FileDescriptorOutput(descriptor: STDERR_FILENO)

    /// The descriptor written to; not owned (never closed here).
    public let descriptor: Int32

    /// Output to `descriptor`.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Writes all of `text`.
    ///
    /// - Throws: ``SystemdError/systemCall(name:errno:)``, e.g. `EPIPE` when the reader of a pipe went away (with
    ///   `SIGPIPE` ignored, as the daemon does).
    ///
    /// The corresponding C function is `write`.
    public func write(_ text: String) throws(SystemdError) {
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .systemCall(name: "write", errno: errno)
            }
            written += result
        }
    }
}
