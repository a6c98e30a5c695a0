import Stream

/// The simulator as a ``SampleSource``: 12 leads in standard order, in the header's format.
public struct SimulatorSource: SampleSource, Sendable {
    /// The signal.
    public var simulator: ECGSimulator
    /// The stream's header; its format decides how samples are written.
    public let header: StreamHeader
    private var streamIndex: UInt32 = 0

    /// A source of `simulator`'s signal under `header`.
    public init(simulator: ECGSimulator, header: StreamHeader) {
        self.simulator = simulator
        self.header = header
    }

    /// Appends the next frame; see ``SampleSource/appendFrame(maxSamples:to:)``.
    public mutating func appendFrame(maxSamples: Int, to bytes: inout [UInt8]) -> Int {
        var values: [Float] = []
        values.reserveCapacity(maxSamples * 12)
        for _ in 0..<maxSamples { values += simulator.next() }
        switch header.format {
        case .int16(let gain, _):
            let scale = Float(gain[0])
            SampleFrame.appendInt16Frame(
                values.map { Int16(clamping: Int(($0 * scale).rounded())) },
                leadCount: 12,
                firstSampleIndex: streamIndex,
                to: &bytes
            )
        case .float32:
            SampleFrame.appendFloat32Frame(values, leadCount: 12, firstSampleIndex: streamIndex, to: &bytes)
        case .csv:
            SampleFrame.appendCSVLines(values, leadCount: 12, to: &bytes)
        }
        streamIndex &+= UInt32(maxSamples)
        return maxSamples
    }
}
