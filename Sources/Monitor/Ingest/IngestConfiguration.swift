import Stream
import Systemd

/// Everything the ingest service needs, as plain values; the daemon's configuration maps into it.
struct IngestConfiguration: Sendable {
    /// Where to bind the UNIX stream socket when none is inherited; `nil` for no socket.
    var socketPath: String?
    /// Permission bits of a socket the service binds itself. Default 0o660 (owner and group may connect).
    var socketMode: UInt32 = 0o660
    /// A listening socket passed by systemd (``SocketActivation/listeningDescriptor()``), adopted instead of
    /// binding `socketPath`.
    var inheritedSocketDescriptor: Int32?
    /// Whether standard input is one more stream (development runs).
    var readsStandardInput = false
    /// The descriptor read as standard input; tests pass one end of a pipe.
    var standardInputDescriptor: Int32 = 0
    /// Streams open at once; one more is refused. Default 64.
    var maxStreams = 64
    /// Connections at once, header received or not; one more is refused. Default twice `maxStreams`.
    var maxConnections: Int?
    /// Per-stream decoder limits; `bufferBytes` is the most bytes buffered per stream.
    var decoderLimits = DecoderLimits.standard
    /// A stream that sends nothing for this long is closed, seconds. Default 10.
    var idleTimeoutSeconds = 10.0
    /// A connection whose header line is not complete this long after it was accepted is closed, seconds
    /// (a client dripping its header cannot hold a slot). Default 5.
    var headerTimeoutSeconds = 5.0
    /// How far a live stream's samples may run ahead of the wall clock before reading it pauses, seconds: room
    /// for a producer's buffering and bursts. Default 2.
    var liveLeadSeconds = 2.0
    /// Socket connections at once from one local user (the peer's uid); nil: three quarters of the connection
    /// limit (1.5 × `maxStreams` by default), so that one user can feed every stream slot and still be told when
    /// they are full, but never take the last quarter of the connection slots from the others.
    var maxConnectionsPerUser: Int?
    /// What streams are turned into.
    var pipeline: PipelineConfiguration

    /// Connections allowed at once.
    var connectionLimit: Int { maxConnections ?? 2 * maxStreams }
    /// Socket connections allowed at once from one user.
    var connectionLimitPerUser: Int { maxConnectionsPerUser ?? (connectionLimit * 3 + 3) / 4 }

    /// Checks the values.
    ///
    /// - Throws: ``StreamError/badConfiguration(reason:)`` naming the value.
    func validate() throws(StreamError) {
        try decoderLimits.validate()
        guard maxStreams >= 1 else { throw .badConfiguration(reason: "maxStreams must be at least 1") }
        guard connectionLimit >= maxStreams else {
            throw .badConfiguration(reason: "maxConnections must be at least maxStreams")
        }
        guard idleTimeoutSeconds.isFinite, idleTimeoutSeconds > 0 else {
            throw .badConfiguration(reason: "idle timeout must be positive")
        }
        guard headerTimeoutSeconds.isFinite, headerTimeoutSeconds > 0 else {
            throw .badConfiguration(reason: "header timeout must be positive")
        }
        guard liveLeadSeconds.isFinite, liveLeadSeconds >= 0.5 else {
            throw .badConfiguration(reason: "the live lead must be at least 0.5 s")
        }
        guard connectionLimitPerUser >= 1 else {
            throw .badConfiguration(reason: "maxConnectionsPerUser must be at least 1")
        }
        guard socketMode <= 0o777 else { throw .badConfiguration(reason: "socket mode must be at most 0777") }
        guard socketPath != nil || readsStandardInput || inheritedSocketDescriptor != nil else {
            throw .badConfiguration(reason: "no input: neither a socket nor standard input")
        }
    }
}
