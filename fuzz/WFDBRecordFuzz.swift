@testable import Stream

/// The WFDB header parser and record decoder: header text, a NUL byte, then the bytes every signal file of the
/// header reads. A record that decodes is converted to millivolts and to the frames a replay would send.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWFDBRecord(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let split = input.firstIndex(of: 0) ?? input.count
    let fileBytes = split < input.count ? Array(input[(split + 1)...]) : []
    do {
        guard let text = String(validating: input[..<split], as: UTF8.self) else { return 0 }
        let header = try WFDBHeader.parse(text, path: "fuzz.hea")
        let record = try WFDBRecord.decode(header: header, headerPath: "fuzz.hea") { name throws(StreamError) in
            ("fuzz/" + name, fileBytes)
        }
        precondition(record.samples.count == header.signals.count)
        precondition(record.samples.allSatisfy { $0.count == record.sampleCount })
        for signal in header.signals.indices {
            for value in record.millivolts(signal: signal) {
                precondition(value.isFinite || value.isNaN, "a sample scaled to \(value)")
            }
        }
        let streamHeader = try record.streamHeader(streamID: "fuzz")
        var bytes: [UInt8] = []
        if record.sampleCount > 0 {
            record.appendFrame(instants: 0..<min(record.sampleCount, 1000), firstSampleIndex: 0, to: &bytes)
        }
        precondition(streamHeader.leads.count == record.standardLeadSignals.count)
    } catch {
        FuzzSupport.requireOneLine(error.description)
    }
    return 0
}
