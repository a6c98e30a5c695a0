/// Turns the daemon's answer to a producer into the tool's outcome.
public enum ProducerReport {
    /// Succeeds when the daemon took the stream to its end: no error line came back and the connection held.
    ///
    /// - Throws: ``ProtocolOutputError`` naming the daemon's error line, or the connection error.
    public static func check(reply: String, error: (any Error)?, streamID: String) throws {
        let line = reply.split(separator: "\n").first.map(String.init)
        if let line {
            throw ProtocolOutputError(description: "stream \(streamID): the daemon answered \(line)")
        }
        if let error {
            throw ProtocolOutputError(description: "stream \(streamID): \(error)")
        }
    }
}
