import Glibc

/// Reads whole files with POSIX calls (Stream has no Foundation), the swift-system way: return codes
/// checked in one place, `errno` turned into a typed error, `EINTR` retried, partial reads looped.
enum FileBytes {
    /// Files larger than this are refused rather than read into memory, bytes (1 GiB).
    static let maxBytes = 1 << 30

    /// The contents of the file at `path`.
    ///
    /// - Throws: ``StreamError/fileError(path:operation:errno:)``, or ``StreamError/badRecord(path:reason:)``
    ///   for a file over ``maxBytes``.
    static func read(path: String) throws(StreamError) -> [UInt8] {
        let descriptor = try retryingInterrupts(path: path, operation: "open") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(descriptor) }
        var status = stat()
        _ = try retryingInterrupts(path: path, operation: "fstat") { fstat(descriptor, &status) }
        let size = Int(status.st_size)
        guard size <= maxBytes else { throw .badRecord(path: path, reason: "file of \(size) bytes is too large") }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let count = try retryingInterrupts(path: path, operation: "read") {
                bytes.withUnsafeMutableBytes { buffer in
                    guard let base = buffer.baseAddress else { return 0 }
                    return Glibc.read(descriptor, base + filled, size - filled)
                }
            }
            guard count > 0 else { break }
            filled += count
        }
        guard filled == size else {
            throw .badRecord(path: path, reason: "file shrank while being read (\(filled) of \(size) bytes)")
        }
        return bytes
    }

    /// Whether a regular file exists at `path`.
    static func exists(path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }

    /// The absolute path of `path` with every symbolic link, `.` and `..` resolved.
    ///
    /// - Throws: ``StreamError/fileError(path:operation:errno:)`` if a component does not exist or cannot be read.
    ///   The corresponding C function is `realpath`.
    static func resolvedPath(_ path: String) throws(StreamError) -> String {
        guard let resolved = realpath(path, nil) else {
            throw .fileError(path: path, operation: "realpath", errno: errno)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func retryingInterrupts<T: BinaryInteger>(
        path: String,
        operation: String,
        _ call: () -> T
    )
        throws(StreamError) -> T
    {
        while true {
            let result = call()
            if result >= 0 { return result }
            let error = errno
            if error != EINTR { throw .fileError(path: path, operation: operation, errno: error) }
        }
    }
}
