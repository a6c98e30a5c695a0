import Beats

/// One stream's path from decoded frames to model windows; pure, single-threaded, allocation-free per sample.
///
/// Per input instant: non-finite values are replaced by the lead's last finite value (so filter state
/// never becomes NaN) and flagged, as are saturated ones; leads are mapped to the model's order (deriving
/// III, aVR, aVL, aVF if needed) and measured for mains interference; the polyphase resampler brings them to
/// the model's rate; the raw result feeds the quality checks and meter (noise, wander) and the preprocessed
/// result feeds the model ring. Every `hop` samples after the first `window`, the window is offered to the
/// caller with its ``SignalQuality``: per-lead faults and flags, the leads masked in its samples, and
/// whether to classify it. Beats are detected on the mapped leads at the input rate, before resampling keeps
/// QRS timing, and the window carries the stream's heart rate as it completed; a window not classified for
/// noise, leads off or lost samples makes the rate unknown (no rate, no asystole) until the signal is back.
public final class StreamPipeline {
    /// Counters since the stream began.
    public struct Statistics: Sendable, Equatable {
        /// Input instants received, including filled gaps.
        public var inputSamples = 0
        /// Instants at the model's rate produced.
        public var outputSamples = 0
        /// Windows completed.
        public var windows = 0
        /// Input values (instants × leads sent) that were not finite.
        public var nonFiniteValues = 0
        /// Input values at an i16 rail or beyond the saturation threshold.
        public var saturatedValues = 0
        /// Input instants filled in for lost frames.
        public var missingSamples = 0
    }

    /// The stream's header.
    public let header: StreamHeader
    /// What the stream is turned into.
    public let configuration: PipelineConfiguration
    /// How sent leads become model leads.
    public let mapping: LeadMapping
    /// Counters since the stream began.
    public private(set) var statistics = Statistics()

    private let resampler: Resampler
    private let preprocessor: Preprocessor
    private let assembler: WindowAssembler
    private let meter: SignalQualityMeter
    private var beatDetector: QRSDetector
    private var heartRateMeter: HeartRateMeter
    private let inputFlags: LeadRingBuffer<UInt8>
    private let saturationLimit: Float
    private let maxGapSamples: Int
    private var nextFrameIndex: UInt32?
    private var lastAttributedInput = -1
    // Scratch for one instant, allocated once.
    private let held: UnsafeMutablePointer<Float>
    private let sentValues: UnsafeMutablePointer<Float>
    private let sentFlags: UnsafeMutablePointer<UInt8>
    private let modelValues: UnsafeMutablePointer<Float>
    private let modelFlags: UnsafeMutablePointer<UInt8>
    private let resampled: UnsafeMutablePointer<Float>
    private let resampledFlags: UnsafeMutablePointer<UInt8>
    private let preprocessed: UnsafeMutablePointer<Double>
    private let preprocessedFloat: UnsafeMutablePointer<Float>
    private let beatInput: UnsafeMutablePointer<Float>

    /// Builds the pipeline for a stream.
    ///
    /// - Parameters:
    ///   - header: the stream's decoded header.
    ///   - configuration: the model's side.
    ///   - resamplerDesign: a design for the header's rate to the model's rate, to share one among streams;
    ///     `nil` designs one.
    /// - Throws: ``StreamError/missingLead(name:)`` when the model needs a lead the stream cannot give.
    public init(
        header: StreamHeader,
        configuration: PipelineConfiguration,
        resamplerDesign: ResamplerDesign? = nil
    )
        throws(StreamError)
    {
        self.header = header
        self.configuration = configuration
        mapping = try LeadMapping(sent: header.leads, model: configuration.leads)
        let design =
            resamplerDesign
            ?? ResamplerDesign(
                inputRateHz: header.sampleRateHz,
                outputRateHz: configuration.sampleRateHz,
                attenuationDecibels: configuration.resamplerAttenuationDecibels
            )
        precondition(
            design.inputRateHz == header.sampleRateHz && design.outputRateHz == configuration.sampleRateHz,
            "the shared resampler design must match the stream's and the model's rates"
        )
        let modelLeads = configuration.leads.count
        let sentLeads = header.leads.count
        resampler = Resampler(design: design, leadCount: modelLeads)
        preprocessor = try Preprocessor(steps: configuration.preprocessing, leadCount: modelLeads)
        assembler = WindowAssembler(
            leadCount: modelLeads,
            windowSamples: configuration.windowSamples,
            hopSamples: configuration.hopSamples
        )
        meter = SignalQualityMeter(
            leadCount: modelLeads,
            modelRateHz: configuration.sampleRateHz,
            inputRateHz: header.sampleRateHz,
            bandEdgeHz: design.upFactor == design.downFactor
                ? Double(configuration.sampleRateHz) / 2 : (design.passBandEdgeHz + design.stopBandEdgeHz) / 2,
            windowSamples: configuration.windowSamples,
            hopSamples: configuration.hopSamples,
            thresholds: configuration.quality
        )
        // Inputs between the last attributed instant and the newest: the filter span plus one output step.
        inputFlags = LeadRingBuffer(
            leadCount: modelLeads,
            minimumCapacity: design.tapsPerPhase + design.downFactor / design.upFactor + 2,
            initial: 0
        )
        beatDetector = QRSDetector(sampleRateHz: Double(header.sampleRateHz), leadCount: modelLeads)
        heartRateMeter = HeartRateMeter(sampleRateHz: Double(header.sampleRateHz))
        saturationLimit = Float(configuration.quality.saturationMillivolts)
        maxGapSamples = Int(configuration.maxGapSeconds * Double(header.sampleRateHz))
        held = .allocate(capacity: sentLeads)
        held.initialize(repeating: 0, count: sentLeads)
        sentValues = .allocate(capacity: sentLeads)
        sentFlags = .allocate(capacity: sentLeads)
        modelValues = .allocate(capacity: modelLeads)
        modelFlags = .allocate(capacity: modelLeads)
        resampled = .allocate(capacity: modelLeads)
        resampledFlags = .allocate(capacity: modelLeads)
        preprocessed = .allocate(capacity: modelLeads)
        preprocessedFloat = .allocate(capacity: modelLeads)
        beatInput = .allocate(capacity: modelLeads)
    }

    deinit {
        for pointer in [held, sentValues, modelValues, resampled, preprocessedFloat, beatInput] {
            pointer.deallocate()
        }
        sentFlags.deallocate()
        modelFlags.deallocate()
        resampledFlags.deallocate()
        preprocessed.deallocate()
    }

    /// Seconds between a sample's arrival and the moment its model-rate counterpart exists (resampler delay).
    public var latencySeconds: Double { resampler.design.latencySeconds }

    /// Runs a decoded frame through the pipeline.
    ///
    /// - Parameters:
    ///   - frame: from this stream's ``FrameDecoder``.
    ///   - onWindow: called for each window completed by this frame, in order; the window is valid only
    ///     during the call.
    /// - Throws: ``StreamError/sampleGap(expectedIndex:receivedIndex:)`` when frames were lost beyond the
    ///   allowed gap or arrive out of order.
    /// - Complexity: O(samples · leads · K) where K is the resampler's taps per phase.
    public func append(_ frame: SampleFrame, onWindow: (StreamWindow) -> Void) throws(StreamError) {
        _ = try append(frame, fromInstant: 0) { window in
            onWindow(window)
            return true
        }
    }

    /// Runs a decoded frame through the pipeline from instant `start` on, stopping after the instant whose
    /// window `onWindow` declined: a reader that can make its producer wait (a recording) resumes there once the
    /// window could be handed on, so a frame of many windows never needs more than one window held back.
    ///
    /// - Parameters:
    ///   - frame: from this stream's ``FrameDecoder``; it must stay valid until the frame is done (the decoder
    ///     left alone in between).
    ///   - start: 0 for a new frame, else what the previous call returned.
    ///   - onWindow: called for each window completed, in order; returns false to stop after its instant.
    /// - Returns: The instant to resume from, or nil when the frame is done.
    /// - Throws: As ``append(_:onWindow:)``, for a new frame only.
    public func append(
        _ frame: SampleFrame,
        fromInstant start: Int,
        onWindow: (StreamWindow) -> Bool
    ) throws(StreamError) -> Int? {
        precondition(frame.leadCount == header.leads.count, "frame from another stream's decoder")
        precondition((0..<max(1, frame.sampleCount)).contains(start), "resuming outside the frame")
        if start == 0, let first = frame.firstSampleIndex {
            if let expected = nextFrameIndex, first != expected {
                let gap = first &- expected
                guard gap < 1 << 31, Int(gap) <= maxGapSamples else {
                    throw .sampleGap(expectedIndex: expected, receivedIndex: first)
                }
                // A lost stretch is at most a second of windows: filled in whole, whatever `onWindow` says.
                fillGap(Int(gap)) { _ = onWindow($0) }
            }
            nextFrameIndex = first &+ UInt32(truncatingIfNeeded: frame.sampleCount)
        }
        let leadCount = frame.leadCount
        for instant in start..<frame.sampleCount {
            let offset = instant * leadCount
            for lead in 0..<leadCount {
                let value = frame.millivolts[offset + lead]
                var flags: UInt8 = 0
                if value.isFinite {
                    held[lead] = value
                    if frame.railed[offset + lead] || abs(value) > saturationLimit { flags = SampleFlags.saturated }
                } else {
                    flags = SampleFlags.nonFinite
                }
                sentValues[lead] = held[lead]
                sentFlags[lead] = flags
            }
            var proceed = true
            pushInstant { window in proceed = onWindow(window) && proceed }
            if !proceed, instant + 1 < frame.sampleCount { return instant + 1 }
        }
        return nil
    }

    /// Fills lost input instants with each lead's last value, flagged missing.
    private func fillGap(_ count: Int, onWindow: (StreamWindow) -> Void) {
        let leadCount = header.leads.count
        for _ in 0..<count {
            sentValues.update(from: held, count: leadCount)
            sentFlags.update(repeating: SampleFlags.missing, count: leadCount)
            pushInstant(onWindow: onWindow)
        }
    }

    private func pushInstant(onWindow: (StreamWindow) -> Void) {
        countInput()
        mapping.apply(sent: sentValues, sentFlags: sentFlags, model: modelValues, modelFlags: modelFlags)
        meter.appendInput(modelValues)
        let modelLeads = configuration.leads.count
        detectBeats(modelLeads: modelLeads)
        resampler.push(modelValues)
        inputFlags.append(modelFlags)
        while resampler.popOutput(into: resampled) {
            attributeFlags(throughInput: resampler.inputIndex(atOutput: resampler.outputCount - 1))
            for lead in 0..<modelLeads { preprocessed[lead] = Double(resampled[lead]) }
            preprocessor.apply(preprocessed)
            for lead in 0..<modelLeads { preprocessedFloat[lead] = Float(preprocessed[lead]) }
            statistics.outputSamples += 1
            meter.appendOutput(resampled)
            guard assembler.append(model: preprocessedFloat, flags: resampledFlags) else { continue }
            statistics.windows += 1
            var quality = assembler.quality()
            meter.assess(into: &quality)
            quality.beatNoiseRatio = beatDetector.noiseRatio.map(Double.init)
            quality.decideVerdict(configuration.quality, leadCount: modelLeads)
            let newestInput = beatDetector.sampleIndex - 1
            if !quality.isClassifiable { heartRateMeter.recordUnusableSignal(atSampleIndex: newestInput) }
            let info = WindowInfo(
                streamID: header.streamID,
                startSample: Int64(assembler.sampleCount - configuration.windowSamples),
                sampleCount: configuration.windowSamples,
                sampleRateHz: configuration.sampleRateHz,
                quality: quality,
                heartRate: heartRateMeter.reading(atSampleIndex: newestInput)
            )
            onWindow(StreamWindow(info: info, assembler: assembler))
        }
    }

    /// Runs the beat detector on the mapped instant; a lead with a non-finite or missing value is given as NaN,
    /// which the detector leaves out until the lead settles.
    private func detectBeats(modelLeads: Int) {
        let unusable = SampleFlags.nonFinite | SampleFlags.missing
        for lead in 0..<modelLeads {
            beatInput[lead] = modelFlags[lead] & unusable == 0 ? modelValues[lead] : .nan
        }
        if let beat = beatDetector.process(UnsafeBufferPointer(start: beatInput, count: modelLeads)) {
            heartRateMeter.recordBeat(atSampleIndex: beat.sampleIndex)
        }
    }

    /// ORs the flags of inputs not yet attributed, up to and including `lastInput`, into `resampledFlags`.
    private func attributeFlags(throughInput lastInput: Int) {
        let modelLeads = configuration.leads.count
        resampledFlags.update(repeating: 0, count: modelLeads)
        guard lastInput > lastAttributedInput else { return }
        for input in (lastAttributedInput + 1)...lastInput {
            for lead in 0..<modelLeads {
                resampledFlags[lead] |= inputFlags[lead: lead, index: input]
            }
        }
        lastAttributedInput = lastInput
    }

    private func countInput() {
        statistics.inputSamples += 1
        for lead in 0..<header.leads.count {
            let flags = sentFlags[lead]
            if flags & SampleFlags.nonFinite != 0 { statistics.nonFiniteValues += 1 }
            if flags & SampleFlags.saturated != 0 { statistics.saturatedValues += 1 }
        }
        if sentFlags[0] & SampleFlags.missing != 0 { statistics.missingSamples += 1 }
    }

    // MARK: - Testing

    /// Checks every component's invariants; tests call it after every mutation.
    func testOnly_checkInvariants() {
        resampler.testOnly_checkInvariants()
        preprocessor.testOnly_checkInvariants()
        assembler.testOnly_checkInvariants()
        meter.testOnly_checkInvariants()
        inputFlags.testOnly_checkInvariants()
        precondition(lastAttributedInput < resampler.inputCount)
        precondition(statistics.outputSamples == resampler.outputCount)
    }
}
