import Glibc

/// Re-executes the process with `OPENBLAS_CORETYPE` set when OpenBLAS runs kernels below what the CPU can run.
///
/// The variable only counts before OpenBLAS loads, that is before `main`, so the process replaces itself:
/// `execve` of `/proc/self/exe` with the same arguments and environment plus the variable. A set
/// `OPENBLAS_CORETYPE` (the operator's or the first run's) is never overridden, so this happens at most once.
public enum OpenBLASRelaunch {
    /// What ``relaunchIfNeeded(environment:)`` found, when it returns.
    public enum Outcome: Sendable, Equatable {
        /// The kernels in use are fine (``OpenBLASCore/recommendedCoreType`` is nil).
        case notNeeded(OpenBLASCore)
        /// `OPENBLAS_CORETYPE` is already set (to this value): the kernels in use are what it chose.
        case alreadySet(String, OpenBLASCore)
        /// `execve` failed with this errno; the process goes on with the kernels in use.
        case failed(errno: Int32, OpenBLASCore)
    }

    /// The name of the variable OpenBLAS reads.
    public static let variable = "OPENBLAS_CORETYPE"

    /// Re-executes the process with better kernels if it needs them; returns only when it does not (or cannot).
    ///
    /// - Important: call first thing in `main`, before any thread starts: `execve` replaces the whole process.
    /// - Parameter environment: the process environment (for tests: the decision without the `execve`).
    /// - Returns: why the process goes on as it is; on a successful re-execution it does not return.
    public static func relaunchIfNeeded(
        environment: [String: String] = currentEnvironment()
    ) -> Outcome {
        let core = OpenBLASCore.current()
        if let set = environment[variable] { return .alreadySet(set, core) }
        guard let coreType = core.recommendedCoreType else { return .notNeeded(core) }
        setenv(variable, coreType, 1)
        execve("/proc/self/exe", CommandLine.unsafeArgv, environ)
        let error = errno
        unsetenv(variable)
        return .failed(errno: error, core)
    }

    /// The process environment as a dictionary.
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}
