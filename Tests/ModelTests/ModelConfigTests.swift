import Testing

@testable import Model

@Suite struct ModelConfigTests {
    static let good: [(key: String, value: String)] = [
        ("ecg.format_version", "1"),
        ("ecg.classes", #"[{"code":"NORM","description":"normal ECG"},{"code":"MI","description":"infarction"}]"#),
        ("ecg.thresholds", "[0.4, 0.25]"),
        ("ecg.sample_rate_hz", "100"),
        ("ecg.window_samples", "250"),
        ("ecg.leads", #"["I","II"]"#),
        ("ecg.units", "mV"),
        (
            "ecg.preprocessing",
            #"[{"op":"sos_filter","sos":[[1,0,0,1,0.5,0]],"description":"hp"},"#
                + #"{"op":"standardize","mean":[0,1],"std":[2,3]}]"#
        ),
        ("ecg.provenance", #"{"data":"PTB-XL 1.0.3"}"#),
        ("other.key", "ignored"),
    ]

    static func replacing(_ key: String, with value: String?) -> [(key: String, value: String)] {
        good.compactMap { $0.key == key ? value.map { (key, $0) } : $0 }
    }

    @Test func readsEveryKey() throws {
        let config = try ModelConfig(metadata: Self.good, classCount: 2, leadCount: 2)
        #expect(
            config.classes == [
                ModelClass(code: "NORM", description: "normal ECG"), ModelClass(code: "MI", description: "infarction"),
            ])
        #expect(config.thresholds == [0.4, 0.25])
        #expect(config.sampleRateHz == 100)
        #expect(config.windowSamples == 250)
        #expect(config.leads == ["I", "II"])
        #expect(config.units == "mV")
        #expect(config.preprocessingMetadata?.hasPrefix(#"[{"op":"sos_filter""#) == true)
        #expect(config.provenance?.contains("PTB-XL") == true)
        #expect(config.warning == nil)
    }

    @Test func fallsBackToIndexedClassesWithAWarning() throws {
        let config = try ModelConfig(metadata: [("producer", "x")], classCount: 3, leadCount: 12)
        #expect(config.classes.map(\.code) == ["class0", "class1", "class2"])
        #expect(config.thresholds == [0.5, 0.5, 0.5])
        #expect(config.preprocessingMetadata == nil)
        #expect(config.warning?.contains("no ecg.* metadata") == true)
    }

    @Test(arguments: [
        ("ecg.classes", #"[{"code":"NORM","description":"n"}]"#, "ecg.classes"),
        ("ecg.classes", "not json", "ecg.classes"),
        ("ecg.thresholds", "[0.4]", "ecg.thresholds"),
        ("ecg.thresholds", "[0.4, 1.5]", "ecg.thresholds"),
        ("ecg.sample_rate_hz", "fast", "ecg.sample_rate_hz"),
        ("ecg.sample_rate_hz", "-5", "ecg.sample_rate_hz"),
        ("ecg.window_samples", "2.5", "ecg.window_samples"),
        ("ecg.leads", #"["I"]"#, "ecg.leads"),
        ("ecg.format_version", "2", "ecg.format_version"),
    ])
    func namesTheBadKey(key: String, value: String, named: String) {
        let error = #expect(throws: ModelError.self) {
            try ModelConfig(metadata: Self.replacing(key, with: value), classCount: 2, leadCount: 2)
        }
        guard case .badMetadata(let reported, _) = error else {
            Issue.record("expected badMetadata, got \(String(describing: error))")
            return
        }
        #expect(reported == named)
    }

    @Test func namesAMissingRequiredKey() {
        #expect(throws: ModelError.badMetadata(key: "ecg.leads", reason: "missing")) {
            try ModelConfig(metadata: Self.replacing("ecg.leads", with: nil), classCount: 2, leadCount: 2)
        }
    }

    @Test func readsTheFixtureModelsMetadata() throws {
        let model = try CompiledModel(contentsOf: Fixtures.path("paper.onnx"))
        #expect(model.config.classes.count == 71)
        #expect(model.config.classes.first?.code == "NDT")
        #expect(model.config.leads.count == 12)
        #expect(model.config.windowSamples == 250)
    }
}
