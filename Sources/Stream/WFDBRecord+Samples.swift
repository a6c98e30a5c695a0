extension WFDBRecord {
    /// A record of `header` holding `samples` instead of what its files hold: a recording with a disturbance
    /// added, say.
    ///
    /// - Precondition: One sample array per signal of `header`, all of the same length.
    public init(header: WFDBHeader, replacingSamples samples: [[Int16]]) {
        precondition(samples.count == header.signals.count, "one sample array per signal")
        precondition(Set(samples.map(\.count)).count <= 1, "every signal has the same number of samples")
        self.init(header: header, samples: samples)
    }
}
