/// Shared checks of the fuzz targets: an error message must stay one line, whatever the input.
enum FuzzSupport {
    /// Traps (a finding) if `message` holds a control character that would end or split a log line.
    static func requireOneLine(_ message: String) {
        for scalar in message.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F {
            fatalError("message holds control character \(scalar.value): \(message.debugDescription)")
        }
    }
}
