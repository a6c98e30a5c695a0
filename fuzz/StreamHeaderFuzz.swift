@testable import Stream

/// The header parser: any bytes as a header line either parse or throw a one-line error; a header that parses
/// serializes to a line that parses back to the same header.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreamHeader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = UnsafeBufferPointer(start: data, count: size)
    do {
        let header = try StreamHeader.parse(line: line)
        let again = try StreamHeader.parse(line: Array(header.jsonLine.utf8.dropLast()))
        precondition(again == header, "header does not round-trip: \(header.jsonLine.debugDescription)")
    } catch {
        FuzzSupport.requireOneLine(error.description)
    }
    return 0
}
