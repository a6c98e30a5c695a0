import NIOCore
import NIOPosix
import SystemPackage

/// Where a producer tool (replay, simulate) writes protocol bytes.
public protocol ProtocolOutput: Sendable {
    /// Writes all of `bytes`, waiting while the reader is slow.
    func write(_ bytes: [UInt8]) async throws
}

/// Why a producer tool failed to deliver its stream.
public struct ProtocolOutputError: Error, CustomStringConvertible {
    /// What went wrong, naming the stream.
    public var description: String
}

/// Standard output, written by blocking `write(2)` calls on NIO's thread pool so the cooperative pool never
/// blocks; works for pipes, terminals and regular files alike.
public struct StandardOutput: ProtocolOutput {
    /// An output to standard output.
    public init() {}

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            do {
                try FileDescriptor.standardOutput.writeAll(bytes)
            } catch {
                throw ProtocolOutputError(description: "writing to standard output failed: \(error)")
            }
        }
    }
}

/// A connection to the daemon's ingest socket.
public struct SocketOutput: ProtocolOutput {
    private let writer: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Writes all of `bytes`, waiting while the daemon does not read.
    public func write(_ bytes: [UInt8]) async throws {
        try await writer.write(ByteBuffer(bytes: bytes))
    }

    /// Connects, runs `body` with the connection, half-closes it, and reads what the daemon answers.
    ///
    /// - Returns: the daemon's reply (empty when the stream was accepted to its end; otherwise its JSON error
    ///   line) and the error `body` threw, if any (typically a broken connection after the daemon refused).
    public static func withConnection(
        socketPath: String,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (SocketOutput) async throws -> Void
    ) async throws -> (reply: String, error: (any Error)?) {
        let channel = try await ClientBootstrap(group: group).connect(unixDomainSocketPath: socketPath) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(isOutboundHalfClosureEnabled: true)
                )
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            var failure: (any Error)?
            do {
                try await body(SocketOutput(writer: outbound))
            } catch {
                failure = error
            }
            outbound.finish()
            var reply = ""
            do {
                for try await var chunk in inbound {
                    reply += chunk.readString(length: chunk.readableBytes) ?? ""
                }
            } catch {
                // A reset after the daemon's reply: what arrived is the answer.
            }
            return (reply, failure)
        }
    }
}
