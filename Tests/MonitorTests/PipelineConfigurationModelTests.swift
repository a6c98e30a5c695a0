import Model
import Stream
import TestSupport
import Testing

@testable import Monitor

@Suite struct PipelineConfigurationModelTests {
    static let quality = SignalQualityThresholds(flatLinePeakToPeakMillivolts: 0.02, saturationMillivolts: 10)

    @Test func takesRateWindowLeadsAndStepsFromTheMetadata() throws {
        let model = try DaemonTestSupport.fixtureModel("paper.onnx")
        let configuration = try PipelineConfiguration(
            model: model.config,
            path: "paper.onnx",
            hopSeconds: 0.5,
            quality: Self.quality
        )
        #expect(configuration.sampleRateHz == 100)
        #expect(configuration.windowSamples == 250 && configuration.hopSamples == 50)
        #expect(configuration.leads == StandardLead.allCases)
        #expect(configuration.quality == Self.quality)
        let metadata = try #require(model.config.preprocessingMetadata)
        #expect(configuration.preprocessing == (try PreprocessingStep.steps(metadataJSON: metadata, leadCount: 12)))
        #expect(!configuration.preprocessing.isEmpty)
    }

    @Test func defaultModelStandardizesOnlyAt100Hz() throws {
        let model = try CompiledModel(contentsOf: DaemonTestSupport.defaultModelPath)
        let configuration = try PipelineConfiguration(
            model: model.config,
            path: "default",
            hopSeconds: 0.5,
            quality: Self.quality
        )
        #expect(configuration.sampleRateHz == 100 && configuration.windowSamples == 250)
        #expect(configuration.preprocessing.count == 1)
        if case .standardize = configuration.preprocessing.first {} else { Issue.record("expected standardize") }
    }

    @Test(arguments: [0.333, 0.001, 0, -0.5, Double.nan])
    func refusesAHopThatIsNotAWholeNumberOfSamples(hopSeconds: Double) throws {
        let model = try DaemonTestSupport.fixtureModel("paper.onnx")
        #expect(throws: DaemonError.self) {
            try PipelineConfiguration(
                model: model.config,
                path: "paper.onnx",
                hopSeconds: hopSeconds,
                quality: Self.quality
            )
        }
    }

    @Test func refusesAModelWithoutMetadata() throws {
        let model = try DaemonTestSupport.fixtureModel("tiny.onnx")
        let error = #expect(throws: DaemonError.self) {
            try PipelineConfiguration(model: model.config, path: "tiny.onnx", hopSeconds: 0.5, quality: Self.quality)
        }
        #expect(
            error
                == .unusableModel(
                    path: "tiny.onnx",
                    reason: "it has no ecg.sample_rate_hz and ecg.window_samples metadata (docs/model-format.md)"
                )
        )
    }
}
