import CSystemd
import Glibc

/// Writes structured entries to the systemd journal through libsystemd.
///
/// Entries go to the journal socket of the process's mount namespace (`/run/systemd/journal/socket`); a
/// service with `LogNamespace=` gets its namespace's socket there. When that socket does not exist, libsystemd
/// drops entries without an error: check ``isJournalAvailable`` at start-up before relying on the journal.
public struct JournalWriter: Sendable {
    /// Where libsystemd sends entries.
    public static let socketPath = "/run/systemd/journal/socket"

    /// A writer to the journal.
    public init() {}

    /// Whether a journal socket exists, i.e. whether entries will reach a journald at all.
    public var isJournalAvailable: Bool {
        access(Self.socketPath, F_OK) == 0
    }

    /// Sends one entry.
    ///
    /// Values may hold any bytes, newlines included (libsystemd switches to the binary field format).
    ///
    /// - Parameter fields: `(NAME, value)` pairs; names are upper-case journal field names without a leading `_`.
    /// - Throws: ``SystemdError/systemCall(name:errno:)`` when the journal socket refuses the entry (e.g. a stale
    ///   socket with no journald behind it).
    ///
    /// The corresponding C function is `sd_journal_sendv`.
    public func send(_ fields: [(name: String, value: String)]) throws(SystemdError) {
        precondition(!fields.isEmpty && fields.count <= Int(Int32.max), "an entry needs one to Int32.max fields")
        let entries = fields.map { Array("\($0.name)=\($0.value)".utf8) }
        let total = entries.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { storage.deallocate() }
        let vectors = UnsafeMutableBufferPointer<iovec>.allocate(capacity: entries.count)
        defer { vectors.deallocate() }
        var offset = 0
        for (index, entry) in entries.enumerated() {
            let destination = UnsafeMutableRawBufferPointer(rebasing: storage[offset..<offset + entry.count])
            destination.copyBytes(from: entry)
            vectors[index] = iovec(iov_base: destination.baseAddress, iov_len: entry.count)
            offset += entry.count
        }
        let result = sd_journal_sendv(vectors.baseAddress, Int32(entries.count))
        if result < 0 {
            throw .systemCall(name: "sd_journal_sendv", errno: -result)
        }
    }
}
