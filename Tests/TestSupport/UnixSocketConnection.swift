import Glibc

/// A client connection to a UNIX stream socket, as a raw descriptor: what ``BlockingStreamClient`` talks over,
/// and, left idle, what holds a connection slot.
package enum UnixSocketConnection {
    /// A connected socket's descriptor (close-on-exec); the caller closes it.
    package static func open(_ path: String) throws(HarnessError) -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError(description: "socket: \(String(cString: strerror(errno)))") }
        let result: Int32
        do {
            result = try withAddress(path) { connect(descriptor, $0, $1) }
        } catch {
            close(descriptor)
            throw error
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw HarnessError(description: "connect \(path): \(reason)")
        }
        return descriptor
    }

    /// Calls `body` with the address of the UNIX socket at `path`, as `bind` and `connect` take it.
    ///
    /// - Throws: ``HarnessError`` when the path does not fit `sun_path`.
    package static func withAddress<Result>(
        _ path: String,
        _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) throws(HarnessError) -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw HarnessError(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
