import Foundation
import TestSupport
import Testing

@testable import Monitor

/// docs/protocol.md states limits the code sets elsewhere; these tests keep the two from drifting apart.
@Suite struct ProtocolDocumentationTests {
    static let text: String = {
        let url = DaemonTestSupport.packageRoot.appendingPathComponent("docs/protocol.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    @Test func idleTimeoutIsTheConfiguredStallTime() throws {
        let seconds = Config.defaults.input.stallSeconds
        let shown = seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)"
        try #require(!Self.text.isEmpty, "docs/protocol.md is missing")
        #expect(Self.text.contains("| `idle_timeout` | no byte for `input.stall_seconds` (default \(shown) s)"))
        #expect(Self.text.contains("| idle time before `idle_timeout` (`input.stall_seconds`) | \(shown) s |"))
    }
}
