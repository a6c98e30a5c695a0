@testable import Model

/// The ONNX reader, plan compiler and metadata reader: any bytes as a model file load or throw, never crash; a
/// model that loads also runs one short window.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let model = try? CompiledModel(bytes: bytes) else { return 0 }
    precondition(model.config.classes.count == model.plan.outputCount)
    precondition(model.config.leads.count == model.plan.inputChannels)
    let timeSamples = 32
    let engine = PlanExecutor(model: model, maxBatch: 1, maxTimeSamples: timeSamples)
    let window = [Float](repeating: 0.25, count: model.plan.inputChannels * timeSamples)
    if let logits = try? engine.logits(for: window, batch: 1, timeSamples: timeSamples) {
        precondition(logits.count == model.plan.outputCount)
    }
    return 0
}
