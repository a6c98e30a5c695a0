import CSystemd
import Glibc

/// Reads journal entries through libsystemd's reader API: open, filter, seek, iterate, wait.
///
/// Not thread-safe (neither is `sd_journal`): use one reader from one thread, e.g. a ``WorkerThread``.
public final class JournalReader {
    /// Which journal files to read.
    public enum Source: Sendable, Equatable {
        /// This machine's journals (system and users'), as `journalctl` reads them.
        case local
        /// The journal files in a directory, e.g. `/var/log/journal/<machine-id>` copied elsewhere.
        case directory(String)
        /// A journal namespace (`LogNamespace=`, `journalctl --namespace`).
        case namespace(String)
    }

    /// What changed while ``wait(timeoutMicroseconds:)`` waited.
    public enum Change: Sendable, Equatable {
        /// Nothing; the timeout passed.
        case none
        /// Entries were appended.
        case appended
        /// Files were added, removed or rotated; entries may have been appended too.
        case invalidated
    }

    private let journal: OpaquePointer

    /// Opens `source`.
    ///
    /// - Throws: ``SystemdError/systemCall(name:errno:)`` naming the `sd_journal_open*` call that failed.
    public init(source: Source) throws(SystemdError) {
        var opened: OpaquePointer?
        let flags = Int32(SD_JOURNAL_LOCAL_ONLY)
        let (name, result): (String, Int32) =
            switch source {
            case .local: ("sd_journal_open", sd_journal_open(&opened, flags))
            case .directory(let path): ("sd_journal_open_directory", sd_journal_open_directory(&opened, path, 0))
            case .namespace(let namespace):
                ("sd_journal_open_namespace", sd_journal_open_namespace(&opened, namespace, flags))
            }
        guard result >= 0, let opened else {
            throw .systemCall(name: name, errno: result < 0 ? -result : EINVAL)
        }
        journal = opened
    }

    deinit {
        sd_journal_close(journal)
    }

    /// Keeps only entries with one of `values` in `field` (one call per field; fields are ANDed, values ORed).
    ///
    /// The corresponding C function is `sd_journal_add_match`.
    public func match(_ field: String, anyOf values: [String]) throws(SystemdError) {
        for value in values {
            let match = Array("\(field)=\(value)".utf8)
            let result = match.withUnsafeBytes { sd_journal_add_match(journal, $0.baseAddress, $0.count) }
            try check("sd_journal_add_match", result)
        }
    }

    /// Moves before the first entry.
    public func seekHead() throws(SystemdError) {
        try check("sd_journal_seek_head", sd_journal_seek_head(journal))
    }

    /// Moves onto the last entry, so that ``next()`` returns only entries appended later.
    public func seekPastTail() throws(SystemdError) {
        try check("sd_journal_seek_tail", sd_journal_seek_tail(journal))
        try check("sd_journal_previous", sd_journal_previous(journal))
    }

    /// Moves before the first entry at or after `microseconds` since the epoch.
    public func seek(realtimeMicroseconds microseconds: UInt64) throws(SystemdError) {
        try check("sd_journal_seek_realtime_usec", sd_journal_seek_realtime_usec(journal, microseconds))
    }

    /// Advances to the next entry; false at the end.
    ///
    /// The corresponding C function is `sd_journal_next`.
    public func next() throws(SystemdError) -> Bool {
        try check("sd_journal_next", sd_journal_next(journal)) > 0
    }

    /// The current entry's wall-clock time, microseconds since the epoch.
    public func realtimeMicroseconds() throws(SystemdError) -> UInt64 {
        var microseconds: UInt64 = 0
        try check("sd_journal_get_realtime_usec", sd_journal_get_realtime_usec(journal, &microseconds))
        return microseconds
    }

    /// The current entry's fields by name; values are decoded as UTF-8 (invalid bytes become U+FFFD).
    ///
    /// The corresponding C function is `sd_journal_enumerate_available_data`.
    public func fields() throws(SystemdError) -> [String: String] {
        var fields: [String: String] = [:]
        sd_journal_restart_data(journal)
        var data: UnsafeRawPointer?
        var length = 0
        while try check(
            "sd_journal_enumerate_available_data",
            sd_journal_enumerate_available_data(journal, &data, &length)
        ) > 0 {
            guard let data else { continue }
            let bytes = UnsafeRawBufferPointer(start: data, count: length)
            guard let separator = bytes.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(decoding: bytes[..<separator], as: UTF8.self)
            fields[name] = String(decoding: bytes[(separator + 1)...], as: UTF8.self)
        }
        return fields
    }

    /// Waits until the journal changes or `timeoutMicroseconds` pass.
    ///
    /// The corresponding C function is `sd_journal_wait`.
    public func wait(timeoutMicroseconds: UInt64) throws(SystemdError) -> Change {
        switch try check("sd_journal_wait", sd_journal_wait(journal, timeoutMicroseconds)) {
        case Int32(SD_JOURNAL_APPEND): .appended
        case Int32(SD_JOURNAL_INVALIDATE): .invalidated
        default: .none
        }
    }

    /// libsystemd returns `-errno` on failure.
    @discardableResult
    private func check(_ name: String, _ result: Int32) throws(SystemdError) -> Int32 {
        guard result >= 0 else { throw .systemCall(name: name, errno: -result) }
        return result
    }
}
