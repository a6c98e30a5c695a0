import Glibc
import Testing

@testable import Systemd

/// These tests set the process's `LISTEN_*` variables, so they run one at a time.
@Suite(.serialized) struct SocketActivationTests {
    @discardableResult
    private func withEnvironment<T>(_ variables: [String: String], _ body: () throws -> T) rethrows -> T {
        for (name, value) in variables { setenv(name, value, 1) }
        defer { for name in variables.keys { unsetenv(name) } }
        return try body()
    }

    @Test func noActivationMeansNoDescriptor() throws {
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        #expect(try SocketActivation.listeningDescriptor() == nil)
    }

    @Test func socketsMeantForAnotherProcessAreIgnoredAndTheVariablesUnset() throws {
        let descriptor = try withEnvironment(["LISTEN_PID": "\(getpid() + 1)", "LISTEN_FDS": "1"]) {
            let descriptor = try SocketActivation.listeningDescriptor()
            #expect(getenv("LISTEN_FDS") == nil)
            return descriptor
        }
        #expect(descriptor == nil)
    }

    @Test func malformedVariablesAreAnError() {
        withEnvironment(["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "three"]) {
            #expect(throws: SystemdError.self) { try SocketActivation.listeningDescriptor() }
        }
    }
}
