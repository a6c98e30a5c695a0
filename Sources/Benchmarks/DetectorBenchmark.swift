import Beats

/// Times the QRS detector on one recording: whole passes from a fresh detector until a CPU budget is spent, as
/// `ecg-monitor annotate --bench` reports it.
package struct DetectorBenchmark {
    /// What the passes measured.
    package struct Result {
        /// Whole passes over the recording.
        package var passes: Int
        /// Beats detected over all passes.
        package var beats: Int
        /// Thread CPU seconds spent.
        package var cpuSeconds: Double
        /// Samples of every lead processed over all passes.
        package var samples: Int

        /// CPU nanoseconds per sample of every lead.
        package var nanosecondsPerSample: Double { cpuSeconds * 1e9 / Double(samples) }

        /// The share of one core (in %) that 100 real-time streams at `sampleRateHz` would take.
        package func percentOfOneCorePerHundredStreams(sampleRateHz: Double) -> Double {
            100 * 100 * cpuSeconds / (Double(samples) / sampleRateHz)
        }
    }

    /// Runs passes over `frames` (interleaved `[sample][lead]`, millivolts) until `cpuSeconds` of this thread's
    /// CPU time are spent; at least one pass.
    package static func measure(
        frames: [Float],
        leadCount: Int,
        sampleRateHz: Double,
        cpuSeconds: Double
    ) -> Result {
        var result = Result(passes: 0, beats: 0, cpuSeconds: 0, samples: 0)
        let began = EngineBenchmark.threadCPUSeconds()
        frames.withUnsafeBufferPointer { all in
            repeat {
                var detector = QRSDetector(sampleRateHz: sampleRateHz, leadCount: leadCount)
                result.beats += detector.process(interleaved: all).count
                result.passes += 1
                result.samples += all.count / leadCount
                result.cpuSeconds = EngineBenchmark.threadCPUSeconds() - began
            } while result.cpuSeconds < cpuSeconds
        }
        return result
    }
}
