@testable import Model

/// The model metadata reader: a class-count byte, a lead-count byte, then `key NUL value NUL …` pairs as an
/// ONNX file's `metadata_props` carry them. A configuration that is accepted must agree with the graph.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard input.count >= 2 else { return 0 }
    let classCount = Int(input[0]) % 32 + 1
    let leadCount = Int(input[1]) % 12 + 1
    let texts = input[2...].split(separator: 0, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    let metadata = stride(from: 0, to: texts.count - 1, by: 2).map { (key: texts[$0], value: texts[$0 + 1]) }
    guard let config = try? ModelConfig(metadata: metadata, classCount: classCount, leadCount: leadCount) else {
        return 0
    }
    precondition(config.classes.count == classCount && config.thresholds.count == classCount)
    precondition(config.leads.count == leadCount)
    precondition(config.thresholds.allSatisfy { (0...1).contains($0) })
    return 0
}
