import Glibc
import SystemPackage

/// Writes whole texts to a file descriptor: partial writes looped, `EINTR` retried (swift-system's `writeAll`).
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
        do {
            try FileDescriptor(rawValue: descriptor).writeAll(text.utf8)
        } catch {
            // swift-system throws only `Errno`.
            throw .systemCall(name: "write", errno: (error as? Errno)?.rawValue ?? EIO)
        }
    }
}
