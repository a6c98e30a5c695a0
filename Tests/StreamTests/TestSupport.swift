import Foundation
import Testing

@testable import Stream

/// Shared helpers of the Stream tests.
enum TestSupport {
    /// The real recordings, at `../shared/ecg-samples` relative to the package root.
    static let samplesDirectory: String = {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/ecg-samples").path
    }()

    /// The path of a sample record (without extension), failing the test clearly when the recordings are absent.
    static func samplePath(_ relative: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = samplesDirectory + "/" + relative
        try #require(
            FileManager.default.fileExists(atPath: path + ".hea"),
            "sample record \(relative) is absent: the ECG recordings are expected in \(samplesDirectory)",
            sourceLocation: sourceLocation
        )
        return path
    }

    static let twelveLeads = StandardLead.allCases.map(\.name)

    /// A pipeline configuration without preprocessing, 12 standard leads.
    static func configuration(
        rateHz: Int = 100,
        windowSamples: Int = 250,
        hopSamples: Int = 50,
        preprocessing: [PreprocessingStep] = [],
        quality: SignalQualityThresholds = .standard
    ) throws -> PipelineConfiguration {
        try PipelineConfiguration(
            sampleRateHz: rateHz,
            windowSamples: windowSamples,
            hopSamples: hopSamples,
            leadNames: twelveLeads,
            preprocessing: preprocessing,
            quality: quality
        )
    }

    /// A header for `leads` at `rateHz`.
    static func header(
        id: String = "test-1",
        rateHz: Int = 100,
        leads: [StandardLead] = StandardLead.allCases,
        format: SampleFormat = .float32
    ) throws -> StreamHeader {
        try StreamHeader(streamID: id, sampleRateHz: rateHz, leads: leads, format: format)
    }

    /// Deterministic pseudo-random numbers (SplitMix64), so failures reproduce.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Decodes every item of `bytes`, fed in chunks of `chunk` bytes, checking invariants after each call.
    static func decodeAll(
        _ bytes: [UInt8],
        chunk: Int,
        decoder: FrameDecoder
    ) throws -> (header: StreamHeader?, frames: [DecodedFrame]) {
        var header: StreamHeader?
        var frames: [DecodedFrame] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            var slice = offset
            while slice < end {
                let taken = bytes[slice..<end].withUnsafeBytes { decoder.append($0) }
                decoder.testOnly_checkInvariants()
                slice += taken
                while let item = try decoder.next() {
                    decoder.testOnly_checkInvariants()
                    switch item {
                    case .header(let decoded): header = decoded
                    case .frame(let frame): frames.append(DecodedFrame(frame))
                    }
                }
            }
            offset = end
        }
        return (header, frames)
    }

    /// A decoded frame copied out of the decoder's buffers.
    struct DecodedFrame: Equatable {
        var firstSampleIndex: UInt32?
        var sampleCount: Int
        var millivolts: [Float]
        var railed: [Bool]

        init(_ frame: SampleFrame) {
            firstSampleIndex = frame.firstSampleIndex
            sampleCount = frame.sampleCount
            millivolts = Array(frame.millivolts)
            railed = Array(frame.railed)
        }

        static func == (lhs: DecodedFrame, rhs: DecodedFrame) -> Bool {
            lhs.firstSampleIndex == rhs.firstSampleIndex && lhs.sampleCount == rhs.sampleCount
                && lhs.railed == rhs.railed
                && zip(lhs.millivolts, rhs.millivolts).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
                && lhs.millivolts.count == rhs.millivolts.count
        }
    }

    /// Runs `frames` through a pipeline, collecting every window's info and preprocessed samples.
    static func collectWindows(
        pipeline: StreamPipeline,
        decoder: FrameDecoder,
        bytes: [UInt8]
    ) throws -> [(WindowInfo, [Float])] {
        var windows: [(WindowInfo, [Float])] = []
        var offset = 0
        while offset < bytes.count {
            let taken = bytes[offset...].withUnsafeBytes { decoder.append($0) }
            offset += taken
            while let item = try decoder.next() {
                guard case .frame(let frame) = item else { continue }
                try pipeline.append(frame) { window in
                    var samples = [Float](repeating: .nan, count: pipeline.configuration.windowValueCount)
                    samples.withUnsafeMutableBufferPointer { window.copySamples(into: $0.baseAddress!) }
                    windows.append((window.info, samples))
                }
                pipeline.testOnly_checkInvariants()
            }
        }
        return windows
    }

    /// Feeds interleaved float samples `[instants][leads]` to a pipeline in frames of `frameSamples`.
    static func feed(
        _ samples: [Float],
        leadCount: Int,
        frameSamples: Int,
        pipeline: StreamPipeline
    ) throws -> [(WindowInfo, [Float])] {
        let decoder = try FrameDecoder()
        var bytes = Array(pipeline.header.jsonLine.utf8)
        let instants = samples.count / leadCount
        var start = 0
        while start < instants {
            let count = min(frameSamples, instants - start)
            SampleFrame.appendFloat32Frame(
                samples[(start * leadCount)..<((start + count) * leadCount)],
                leadCount: leadCount,
                firstSampleIndex: UInt32(start),
                to: &bytes
            )
            start += count
        }
        return try collectWindows(pipeline: pipeline, decoder: decoder, bytes: bytes)
    }
}

extension SignalQuality {
    /// The quality with the beat detector's noise estimate left out: the faults and flags alone, to compare
    /// with ``SignalQuality/clean``.
    var withoutBeatNoise: SignalQuality {
        var quality = self
        quality.beatNoiseRatio = nil
        return quality
    }
}
