import Glibc

/// Why a call into the C library or libsystemd failed.
public enum SystemdError: Error, Equatable, CustomStringConvertible {
    /// A system or libsystemd call failed; `errno` is the positive error number.
    case systemCall(name: String, errno: Int32)
    /// The sockets systemd passed (`LISTEN_FDS`) cannot be used.
    case socketActivation(reason: String)

    /// A one-line message fit for the journal, naming the call at fault.
    public var description: String {
        switch self {
        case .systemCall(let name, let errno):
            "\(name) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .socketActivation(let reason):
            "socket activation: \(reason)"
        }
    }
}
