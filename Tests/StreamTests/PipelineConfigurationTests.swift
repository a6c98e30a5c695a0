import Testing

@testable import Stream

@Suite struct PipelineConfigurationTests {
    @Test func acceptsTheModelsOrderInAnyCase() throws {
        let configuration = try PipelineConfiguration(
            sampleRateHz: 100,
            windowSamples: 250,
            hopSamples: 50,
            leadNames: ["avr", "I", "v6"]
        )
        #expect(configuration.leads == [.aVR, .i, .v6])
        #expect(configuration.windowValueCount == 750)
    }

    @Test(arguments: [
        (49, 250, 50, ["I"], "model rate"),
        (100, 0, 50, ["I"], "window"),
        (100, 6001, 50, ["I"], "window"),
        (100, 250, 0, ["I"], "hop"),
        (100, 250, 50, ["I", "X"], "'X' is not a standard lead"),
        (100, 250, 50, ["I", "i"], "listed twice"),
        (100, 250, 50, [], "no leads"),
    ])
    func refusesBadValuesNamingThem(rate: Int, window: Int, hop: Int, leads: [String], reason: String) {
        #expect {
            try PipelineConfiguration(sampleRateHz: rate, windowSamples: window, hopSamples: hop, leadNames: leads)
        } throws: { error in
            guard case .badConfiguration(let message) = error as? StreamError else { return false }
            return message.contains(reason)
        }
    }

    @Test(
        arguments: [
            (SignalQualityThresholds(flatLinePeakToPeakMillivolts: -1, saturationMillivolts: 10), [], 1, "flat-line"),
            (
                SignalQualityThresholds(flatLinePeakToPeakMillivolts: 0.05, saturationMillivolts: .nan), [], 1,
                "saturation"
            ),
            (
                SignalQualityThresholds(flatLinePeakToPeakMillivolts: 0.05, saturationMillivolts: 10, noiseRatio: 0),
                [], 1, "noise ratio"
            ),
            (
                SignalQualityThresholds(
                    flatLinePeakToPeakMillivolts: 0.05, saturationMillivolts: 10, baselineWanderMillivolts: .infinity),
                [], 1, "baseline wander"
            ),
            (
                SignalQualityThresholds(
                    flatLinePeakToPeakMillivolts: 0.05, saturationMillivolts: 10, powerlineMillivolts: -1),
                [], 1, "powerline"
            ),
            (
                SignalQualityThresholds(
                    flatLinePeakToPeakMillivolts: 0.05, saturationMillivolts: 10, maxNoisyLeads: -1),
                [], 1, "masked and noisy"
            ),
            (.standard, [PreprocessingStep.standardize(mean: [0], std: [1])], 1, "standardize needs 2"),
            (.standard, [], 11, "maximum gap"),
        ] as [(SignalQualityThresholds, [PreprocessingStep], Double, String)]
    )
    func refusesBadThresholdsStepsAndGaps(
        quality: SignalQualityThresholds,
        preprocessing: [PreprocessingStep],
        maxGapSeconds: Double,
        reason: String
    ) {
        #expect {
            try PipelineConfiguration(
                sampleRateHz: 100,
                windowSamples: 250,
                hopSamples: 50,
                leadNames: ["I", "II"],
                preprocessing: preprocessing,
                quality: quality,
                maxGapSeconds: maxGapSeconds
            )
        } throws: { error in
            guard case .badConfiguration(let message) = error as? StreamError else { return false }
            return message.contains(reason)
        }
    }
}
