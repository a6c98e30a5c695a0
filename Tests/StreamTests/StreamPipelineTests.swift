import Foundation
import Testing

@testable import Stream

@Suite struct StreamPipelineTests {
    /// Streams a record's standard leads through decoder and pipeline in frames of `frameSamples`.
    static func windows(
        of record: WFDBRecord,
        configuration: PipelineConfiguration,
        frameSamples: Int
    ) throws -> [(WindowInfo, [Float])] {
        let header = try record.streamHeader(streamID: "rec")
        var bytes = Array(header.jsonLine.utf8)
        var start = 0
        while start < record.sampleCount {
            let end = min(start + frameSamples, record.sampleCount)
            record.appendFrame(instants: start..<end, firstSampleIndex: UInt32(start), to: &bytes)
            start = end
        }
        let pipeline = try StreamPipeline(header: header, configuration: configuration)
        return try TestSupport.collectWindows(pipeline: pipeline, decoder: try FrameDecoder(), bytes: bytes)
    }

    /// The record in millivolts, `[lead][instant]`, model lead order.
    static func millivolts(_ record: WFDBRecord) -> [[Float]] {
        let signals = Dictionary(uniqueKeysWithValues: record.standardLeadSignals.map { ($0.lead, $0.signal) })
        return StandardLead.allCases.map { lead in signals[lead].map { record.millivolts(signal: $0) } ?? [] }
    }

    static func slice(_ leads: [[Float]], start: Int, count: Int) -> [Float] {
        leads.flatMap { $0[start..<(start + count)] }
    }

    @Test(arguments: [1, 7, 50, 1000])
    func windowsAt100HzEqualSlicesOfTheRecord(frameSamples: Int) throws {
        let record = try WFDBRecord.read(
            path: try TestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00008_lr")
        )
        let windows = try Self.windows(
            of: record,
            configuration: try TestSupport.configuration(),
            frameSamples: frameSamples
        )
        let leads = Self.millivolts(record)
        #expect(windows.count == (1000 - 250) / 50 + 1)
        for (index, (info, samples)) in windows.enumerated() {
            #expect(info.startSample == Int64(50 * index))
            #expect(info.startSeconds == 0.5 * Double(index) && info.endSeconds == 0.5 * Double(index) + 2.5)
            #expect(info.streamID == "rec" && info.sampleRateHz == 100)
            #expect(info.quality.withoutBeatNoise == .clean)
            #expect(samples == Self.slice(leads, start: 50 * index, count: 250), "window \(index)")
        }
    }

    @Test func preprocessedWindowsEqualTheRecordFilteredOffline() throws {
        let record = try WFDBRecord.read(
            path: try TestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00172_lr")
        )
        let mean = (0..<12).map { 0.01 * Double($0) }
        let std = (0..<12).map { 0.2 + 0.05 * Double($0) }
        let configuration = try TestSupport.configuration(
            preprocessing: [.standardize(mean: mean, std: std), .sosFilter(sections: PreprocessorTests.bandPass)])
        let windows = try Self.windows(of: record, configuration: configuration, frameSamples: 13)
        let filtered: [[Float]] = Self.millivolts(record).enumerated().map { lead, values in
            PreprocessorTests.directFormI(
                values.map { (Double($0) - mean[lead]) / std[lead] },
                sections: PreprocessorTests.bandPass
            )
            .map(Float.init)
        }
        #expect(windows.count == 16)
        for (index, (_, samples)) in windows.enumerated() {
            let expected = Self.slice(filtered, start: 50 * index, count: 250)
            let maxError = zip(samples, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(maxError < 1e-5, "window \(index)")
        }
    }

    @Test(arguments: [1, 10, 333])
    func resampledWindowsEqualTheRecordResampledOffline(frameSamples: Int) throws {
        let record = try WFDBRecord.read(path: try TestSupport.samplePath("ECGClassification_PTBXL/00008_hr"))
        let windows = try Self.windows(
            of: record,
            configuration: try TestSupport.configuration(),
            frameSamples: frameSamples
        )
        let design = ResamplerDesign(inputRateHz: 500, outputRateHz: 100)
        let resampled = Self.millivolts(record).map { ResamplerTests.resample($0, design: design) }
        #expect(windows.count == (resampled[0].count - 250) / 50 + 1)
        for (index, (info, samples)) in windows.enumerated() {
            #expect(info.startSample == Int64(50 * index))
            #expect(samples == Self.slice(resampled, start: 50 * index, count: 250), "window \(index)")
        }
    }

    @Test func derivesMissingLimbLeadsFromIAndII() throws {
        let record = try WFDBRecord.read(
            path: try TestSupport.samplePath("ECG-classification---CNN1D-on-PTB-XL/00008_lr")
        )
        let leads = Self.millivolts(record)
        let sent: [StandardLead] = [.i, .ii, .v1, .v2, .v3, .v4, .v5, .v6]
        var interleaved: [Float] = []
        for instant in 0..<record.sampleCount {
            for lead in sent { interleaved.append(leads[lead.rawValue][instant]) }
        }
        let pipeline = try StreamPipeline(
            header: try TestSupport.header(leads: sent),
            configuration: try TestSupport.configuration()
        )
        let windows = try TestSupport.feed(interleaved, leadCount: 8, frameSamples: 25, pipeline: pipeline)
        let (_, first) = try #require(windows.first)
        for instant in 0..<250 {
            let (leadI, leadII) = (first[instant], first[250 + instant])
            #expect(abs(first[2 * 250 + instant] - (leadII - leadI)) < 1e-6)
            #expect(abs(first[3 * 250 + instant] + (leadI + leadII) / 2) < 1e-6)
            // PTB-XL stores its own III; derived and stored agree to the 1 µV quantisation (plus rounding).
            #expect(abs(first[2 * 250 + instant] - leads[2][instant]) <= 0.0025)
        }
    }

    @Test func nonFiniteSamplesAreReplacedFlaggedAndKeepTheFilterFinite() throws {
        let configuration = try TestSupport.configuration(preprocessing: [
            .sosFilter(sections: PreprocessorTests.bandPass)
        ])
        let pipeline = try StreamPipeline(header: try TestSupport.header(rateHz: 500), configuration: configuration)
        var samples: [Float] = (0..<(500 * 6 * 12)).map { (index: Int) -> Float in
            let amplitude = 0.1 * Float(1 + index % 12)
            return amplitude * Float(sin(Double(index / 12) * 0.05))
        }
        // Lead V2 (index 7) is NaN at 4.0 s, lead I is +inf at 4.001 s.
        samples[2000 * 12 + 7] = .nan
        samples[2001 * 12] = .infinity
        let windows = try TestSupport.feed(samples, leadCount: 12, frameSamples: 20, pipeline: pipeline)
        #expect(pipeline.statistics.nonFiniteValues == 2)
        for (info, values) in windows {
            #expect(values.allSatisfy { $0.isFinite })
            let contains = info.startSeconds <= 4.0 && 4.0 < info.endSeconds
            #expect(info.quality.hasTechnicalFault == contains, "window at \(info.startSeconds) s")
            if contains {
                // All 12 leads are sent, so nothing is derived from lead I and only I and V2 are flagged.
                #expect(info.quality.nonFiniteLeads == [LeadSet(leadIndex: 0), LeadSet(leadIndex: 7)])
                #expect(info.quality.nonFiniteSampleCount == 2)
            }
        }
    }

    @Test func railAndOverLimitSamplesMarkTheirLeadSaturated() throws {
        let header = try TestSupport.header(
            leads: [.i, .ii, .v1, .v2, .v3, .v4, .v5, .v6],
            format: .int16(gain: Array(repeating: 1000, count: 8), baseline: Array(repeating: 0, count: 8))
        )
        let pipeline = try StreamPipeline(header: header, configuration: try TestSupport.configuration())
        let decoder = try FrameDecoder()
        var bytes = Array(header.jsonLine.utf8)
        var samples: [Int16] = (0..<(300 * 8)).map { (index: Int) -> Int16 in
            Int16(500 * (index % 8) + (index / 8 % 20) * 20)
        }
        samples[10 * 8 + 2] = Int16.max
        samples[12 * 8 + 3] = 12_000
        SampleFrame.appendInt16Frame(samples, leadCount: 8, firstSampleIndex: 0, to: &bytes)
        let windows = try TestSupport.collectWindows(pipeline: pipeline, decoder: decoder, bytes: bytes)
        let first = try #require(windows.first?.0)
        // Sent V1 and V2 are model leads 6 and 7.
        #expect(first.quality.saturatedLeads == [LeadSet(leadIndex: 6), LeadSet(leadIndex: 7)])
        #expect(pipeline.statistics.saturatedValues == 2)
        #expect(windows.last?.0.quality.saturatedLeads == [])
    }

    @Test func lostFramesAreFilledAndFlaggedUpToTheGapLimit() throws {
        let header = try TestSupport.header(leads: [.i, .ii, .v1, .v2, .v3, .v4, .v5, .v6])
        let pipeline = try StreamPipeline(header: header, configuration: try TestSupport.configuration())
        var bytes = Array(header.jsonLine.utf8)
        let wave: (Int) -> [Float] = { start in
            (start..<(start + 100)).flatMap { (t: Int) -> [Float] in
                (0..<8).map { (lead: Int) -> Float in Float(sin(Double(t) * 0.3 + Double(lead))) }
            }
        }
        SampleFrame.appendFloat32Frame(wave(0), leadCount: 8, firstSampleIndex: 0, to: &bytes)
        SampleFrame.appendFloat32Frame(wave(130), leadCount: 8, firstSampleIndex: 130, to: &bytes)
        SampleFrame.appendFloat32Frame(wave(230), leadCount: 8, firstSampleIndex: 230, to: &bytes)
        let windows = try TestSupport.collectWindows(pipeline: pipeline, decoder: try FrameDecoder(), bytes: bytes)
        #expect(pipeline.statistics.missingSamples == 30)
        #expect(pipeline.statistics.inputSamples == 330)
        let first = try #require(windows.first?.0)
        #expect(first.quality.missingSampleCount == 30)
        #expect(first.endSample == 250)

        let streams: [(first: UInt32, second: UInt32, error: StreamError)] = [
            (0, 201, .sampleGap(expectedIndex: 100, receivedIndex: 201)),
            (50, 100, .sampleGap(expectedIndex: 150, receivedIndex: 100)),
        ]
        for (first, second, error) in streams {
            var refused = Array(header.jsonLine.utf8)
            SampleFrame.appendFloat32Frame(wave(0), leadCount: 8, firstSampleIndex: first, to: &refused)
            SampleFrame.appendFloat32Frame(wave(0), leadCount: 8, firstSampleIndex: second, to: &refused)
            let fresh = try StreamPipeline(header: header, configuration: try TestSupport.configuration())
            #expect(throws: error) {
                try TestSupport.collectWindows(pipeline: fresh, decoder: try FrameDecoder(), bytes: refused)
            }
        }
    }

    @Test func sampleIndexWrapsAround() throws {
        let header = try TestSupport.header(leads: [.i])
        let configuration = try PipelineConfiguration(
            sampleRateHz: 100,
            windowSamples: 10,
            hopSamples: 10,
            leadNames: ["I"]
        )
        let pipeline = try StreamPipeline(header: header, configuration: configuration)
        var bytes = Array(header.jsonLine.utf8)
        SampleFrame.appendFloat32Frame(
            (0..<10).map(Float.init),
            leadCount: 1,
            firstSampleIndex: UInt32.max - 4,
            to: &bytes
        )
        SampleFrame.appendFloat32Frame((10..<20).map(Float.init), leadCount: 1, firstSampleIndex: 5, to: &bytes)
        let windows = try TestSupport.collectWindows(pipeline: pipeline, decoder: try FrameDecoder(), bytes: bytes)
        #expect(windows.count == 2)
        #expect(pipeline.statistics.missingSamples == 0)
    }

    @Test func modelLeadTheStreamCannotGiveIsRefused() throws {
        #expect(throws: StreamError.missingLead(name: "V4")) {
            try StreamPipeline(
                header: try TestSupport.header(leads: [.i, .ii, .v1, .v2, .v3, .v5, .v6]),
                configuration: try TestSupport.configuration()
            )
        }
    }
}
