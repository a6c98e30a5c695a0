import Alarms
import Foundation
import Model
import Stream

extension FileClassifier {
    /// Instants per protocol frame when a record is streamed through the pipeline.
    static let recordFrameSamples = 1000

    /// Classifies a WFDB record through the stream pipeline the daemon runs: the record is sent as a protocol
    /// stream (its standard leads, `i16le` with its gains), decoded, resampled to the model's rate, preprocessed
    /// as the model's metadata says and cut into windows every `--hop-seconds`.
    ///
    /// Window starts are counted in samples at the model's rate. When the record's rate differs from the
    /// model's, the resampler holds back its delay (0.2 s from 500 Hz to 100 Hz), so a window ending within
    /// that delay of the record's end is not formed. Windows with a technical fault (flat, saturated or
    /// non-finite leads) are classified too, as an offline evaluation does, and counted in a warning on
    /// standard error: the daemon would not classify them.
    ///
    /// - Throws: ``StreamError`` for an unreadable record, ``DaemonError/unusableModel(path:reason:)`` for a
    ///   model without stream metadata, ``InputError/badShape(path:shape:reason:)`` for a record shorter than
    ///   one window.
    package func classifyRecord(header path: String) throws -> Report {
        let record = try WFDBRecord.read(path: path)
        let technical = TechnicalAlarmSettings.defaults
        let configuration = try PipelineConfiguration(
            model: model.config,
            path: modelPath,
            hopSeconds: hopSeconds,
            quality: SignalQualityThresholds(
                flatLinePeakToPeakMillivolts: technical.flatLineMillivolts,
                saturationMillivolts: technical.saturationMillivolts
            )
        )
        let engine = PlanExecutor(model: model, maxBatch: Self.maxBatch, maxTimeSamples: configuration.windowSamples)
        try engine.validate(batch: 1, timeSamples: configuration.windowSamples)
        var starts: [Int] = []
        var windowLogits: [[Float]] = []
        var pending: [Float] = []
        var faulty = 0
        func classifyPending() throws {
            let count = pending.count / configuration.windowValueCount
            guard count > 0 else { return }
            let flat = try engine.logits(for: pending, batch: count, timeSamples: configuration.windowSamples)
            let classes = model.plan.outputCount
            for w in 0..<count { windowLogits.append(Array(flat[(w * classes)..<((w + 1) * classes)])) }
            pending.removeAll(keepingCapacity: true)
        }
        try Self.streamWindows(of: record, configuration: configuration) { window in
            starts.append(Int(window.info.startSample))
            if window.info.quality.hasTechnicalFault { faulty += 1 }
            let offset = pending.count
            pending.append(contentsOf: repeatElement(0, count: configuration.windowValueCount))
            pending.withUnsafeMutableBufferPointer { buffer in
                if let base = buffer.baseAddress { window.copySamples(into: base + offset) }
            }
            if pending.count == Self.maxBatch * configuration.windowValueCount { try classifyPending() }
        }
        try classifyPending()
        guard !starts.isEmpty else {
            throw InputError.badShape(
                path: path,
                shape: [record.header.signals.count, record.sampleCount],
                reason: "shorter than one \(configuration.windowSamples)-sample window at the model's rate"
            )
        }
        if faulty > 0 {
            FileHandle.standardError.write(
                Data(
                    ("warning: \(faulty) of \(starts.count) windows have a technical fault (flat, saturated or "
                        + "non-finite leads); the daemon would not classify them\n").utf8
                )
            )
        }
        return Self.report(model: model, starts: starts, logits: windowLogits, includeLogits: includesLogits)
    }

    /// Streams `record` through a decoder and a pipeline as the daemon would receive it, calling `body` for
    /// every window in order (the window is valid during the call only).
    static func streamWindows(
        of record: WFDBRecord,
        configuration: PipelineConfiguration,
        body: (StreamWindow) throws -> Void
    ) throws {
        let header = try record.streamHeader(streamID: record.header.recordName)
        let decoder = try FrameDecoder()
        let pipeline = try StreamPipeline(header: header, configuration: configuration)
        var failure: (any Error)?
        func feed(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                offset += bytes[offset...].withUnsafeBytes { decoder.append($0) }
                while let item = try decoder.next() {
                    guard case .frame(let frame) = item else { continue }
                    try pipeline.append(frame) { window in
                        guard failure == nil else { return }
                        do { try body(window) } catch { failure = error }
                    }
                    if let failure { throw failure }
                }
            }
        }
        try feed(Array(header.jsonLine.utf8))
        var start = 0
        var bytes: [UInt8] = []
        while start < record.sampleCount {
            let end = min(start + recordFrameSamples, record.sampleCount)
            bytes.removeAll(keepingCapacity: true)
            record.appendFrame(instants: start..<end, firstSampleIndex: UInt32(truncatingIfNeeded: start), to: &bytes)
            try feed(bytes)
            start = end
        }
        try decoder.finish()
    }
}
