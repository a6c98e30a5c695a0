import Glibc
import SystemPackage
import Systemd

/// Standard input as a descriptor that SwiftNIO can poll.
///
/// NIO reads through epoll, which refuses regular files and character devices such as `/dev/null` (EPERM); a
/// pipe or socket is handed over as it is, anything else is copied into a pipe by a blocking reader thread,
/// which blocks while the pipe is full, so backpressure reaches the file or device too.
enum StandardInputRelay {
    /// A pollable descriptor that reads what `descriptor` holds.
    ///
    /// - Parameter descriptor: Standard input.
    /// - Returns: `descriptor` itself when it is a pipe or socket, else the read end of a pipe fed by a reader
    ///   thread, which closes the write end at end of file, on a read error, or once the read end is closed.
    /// - Throws: ``IngestError`` when standard input is closed or a directory, ``SystemdError`` when the pipe or
    ///   thread cannot be made.
    static func pollableDescriptor(for descriptor: Int32) throws -> Int32 {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw IngestError.unsupportedStandardInput(reason: "descriptor \(descriptor) is not open (errno \(errno))")
        }
        // With descriptor 0 closed at exec (`<&-`), the first descriptor the runtime opens takes its number: an
        // eventfd or epoll instance, which is no input. Reading it would take it away from its owner.
        if Self.linkTarget(of: descriptor)?.hasPrefix("anon_inode:") == true {
            throw IngestError.unsupportedStandardInput(reason: "it was closed when the daemon started")
        }
        switch status.st_mode & S_IFMT {
        case S_IFIFO, S_IFSOCK:
            return descriptor
        case S_IFDIR:
            throw IngestError.unsupportedStandardInput(reason: "it is a directory")
        default:
            break
        }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SystemdError.systemCall(name: "pipe", errno: errno) }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        // The write end must not leak into children; the read end becomes NIO's, which sets its own flags.
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        do {
            _ = try WorkerThread(name: "stdin-relay") { copy(from: descriptor, to: writeEnd) }
        } catch {
            close(readEnd)
            close(writeEnd)
            throw error
        }
        return readEnd
    }

    /// What `/proc/self/fd/N` points at, e.g. `pipe:[123]` or `anon_inode:[eventfd]`.
    private static func linkTarget(of descriptor: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let length = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Copies until end of file, a read error, or a write error (the reader went away), then closes `output`.
    private static func copy(from input: Int32, to output: Int32) {
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            do {
                _ = try buffer[..<count].withUnsafeBytes { try FileDescriptor(rawValue: output).writeAll($0) }
            } catch {
                return
            }
        }
    }
}
