import CSystemd
import Glibc

/// The listening socket systemd passes under socket activation (`ecg-monitor.socket`), if any.
public enum SocketActivation {
    /// The inherited listening UNIX stream socket, or `nil` when the process was not socket-activated.
    ///
    /// Unsets `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` so that child processes do not inherit them.
    /// The corresponding C functions are `sd_listen_fds` and `sd_is_socket_unix`.
    ///
    /// - Throws: ``SystemdError/socketActivation(reason:)`` when the environment is malformed, more than one socket is
    ///   passed, or the descriptor is not a listening UNIX stream socket.
    public static func listeningDescriptor() throws(SystemdError) -> Int32? {
        let count = sd_listen_fds(1)
        guard count >= 0 else {
            throw .socketActivation(reason: "LISTEN_FDS is malformed (errno \(-count))")
        }
        guard count > 0 else { return nil }
        guard count == 1 else { throw .socketActivation(reason: "systemd passed \(count) sockets, expected 1") }
        let descriptor = SD_LISTEN_FDS_START
        guard sd_is_socket_unix(descriptor, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 else {
            throw .socketActivation(
                reason: "the inherited descriptor \(descriptor) is not a listening UNIX stream socket")
        }
        return descriptor
    }
}
