import Foundation
import Producers
import Stream

/// Protocol bytes for tests: a simulated 12-lead stream at 500 Hz in f32le.
package enum TestStreams {
    package static func simulated(
        streamID: String,
        seconds: Double,
        seed: UInt64 = 1,
        rateHz: Int = 500,
        heartRateBPM: Double? = nil,
        rateSteps: [ECGSimulator.RateStep] = []
    ) throws -> [UInt8] {
        var source = SimulatorSource(
            simulator: ECGSimulator(
                rhythm: .sinus,
                heartRateBPM: heartRateBPM,
                sampleRateHz: rateHz,
                noiseMillivolts: 0.01,
                seed: seed,
                rateSteps: rateSteps
            ),
            header: try StreamHeader(
                streamID: streamID,
                sampleRateHz: rateHz,
                leads: StandardLead.allCases,
                format: .float32
            )
        )
        var bytes = Array(source.header.jsonLine.utf8)
        var remaining = Int(seconds * Double(rateHz))
        while remaining > 0 {
            remaining -= source.appendFrame(maxSamples: min(100, remaining), to: &bytes)
        }
        return bytes
    }

    /// A real record as protocol bytes (`i16le`, its own gains, frames of `frameSamples`), the leads in
    /// `flatLeads` held at 0 mV as if their electrodes were off; `seconds` of it, looping the record when longer.
    package static func record(
        _ record: WFDBRecord,
        streamID: String,
        flatLeads: Set<StandardLead> = [],
        seconds: Double? = nil,
        frameSamples: Int = 500
    ) throws -> [UInt8] {
        let header = try record.streamHeader(streamID: streamID)
        guard case .int16(_, let baselines) = header.format else {
            throw HarnessError(description: "records are sent as i16le")
        }
        let selected = record.standardLeadSignals
        let instants = seconds.map { Int($0 * Double(header.sampleRateHz)) } ?? record.sampleCount
        var bytes = Array(header.jsonLine.utf8)
        var start = 0
        while start < instants {
            let count = min(frameSamples, instants - start)
            var interleaved: [Int16] = []
            for instant in start..<(start + count) {
                for (index, (signal, lead)) in selected.enumerated() {
                    interleaved.append(
                        flatLeads.contains(lead)
                            ? Int16(baselines[index].rounded()) : record.samples[signal][instant % record.sampleCount]
                    )
                }
            }
            SampleFrame.appendInt16Frame(
                interleaved,
                leadCount: selected.count,
                firstSampleIndex: UInt32(start),
                to: &bytes
            )
            start += count
        }
        return bytes
    }

    /// Sends `bytes` (one stream holding `signalSeconds` of signal) to a socket at `speed` times real time, in
    /// pieces every 20 ms; returns the daemon's reply.
    package static func sendPaced(
        _ bytes: [UInt8],
        to socketPath: String,
        signalSeconds: Double,
        speed: Double
    ) async throws -> String {
        let pieces = max(1, Int(signalSeconds / speed / 0.02))
        let (reply, error) = try await SocketOutput.withConnection(socketPath: socketPath) { output in
            let clock = ContinuousClock()
            let start = clock.now
            for piece in 0..<pieces {
                let range = (bytes.count * piece / pieces)..<(bytes.count * (piece + 1) / pieces)
                try await output.write(Array(bytes[range]))
                try await clock.sleep(until: start + .milliseconds(20 * (piece + 1)))
            }
        }
        if let error { throw error }
        return reply
    }

    /// The windows an offline decoder and pipeline make of `bytes`: start sample → samples.
    package static func offlineWindows(
        _ bytes: [UInt8],
        configuration: PipelineConfiguration
    ) async throws -> [Int64: [Float]] {
        var windows: [Int64: [Float]] = [:]
        try await decode(bytes, configuration: configuration) { window in
            var samples = [Float](repeating: 0, count: configuration.windowValueCount)
            samples.withUnsafeMutableBufferPointer { window.copySamples(into: $0.baseAddress!) }
            windows[window.info.startSample] = samples
        }
        return windows
    }

    /// Decodes `bytes` (one protocol stream) through a pipeline, calling `onWindow` for every window (valid
    /// during the call) and `afterFrame` after every frame.
    package static func decode(
        _ bytes: [UInt8],
        configuration: PipelineConfiguration,
        onWindow: (StreamWindow) -> Void,
        afterFrame: () async -> Void = {}
    ) async throws {
        let decoder = try FrameDecoder()
        var pipeline: StreamPipeline?
        var offset = 0
        while offset < bytes.count {
            offset += bytes[offset...].withUnsafeBytes { decoder.append($0) }
            while let item = try decoder.next() {
                switch item {
                case .header(let header):
                    pipeline = try StreamPipeline(header: header, configuration: configuration)
                case .frame(let frame):
                    try pipeline?.append(frame, onWindow: onWindow)
                    await afterFrame()
                }
            }
        }
    }
}
