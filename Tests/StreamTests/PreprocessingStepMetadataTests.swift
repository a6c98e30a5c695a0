import Testing

@testable import Stream

@Suite struct PreprocessingStepMetadataTests {
    @Test func decodesTheStepsInOrder() throws {
        let steps = try PreprocessingStep.steps(
            metadataJSON: #"[{"op":"sos_filter","sos":[[1,0,0,1,0.5,0]],"description":"hp"},"#
                + #"{"op":"standardize","mean":[0,1],"std":[2,3]}]"#,
            leadCount: 2
        )
        #expect(
            steps == [
                .sosFilter(sections: [SecondOrderSection(b0: 1, b1: 0, b2: 0, a1: 0.5, a2: 0)]),
                .standardize(mean: [0, 1], std: [2, 3]),
            ])
        #expect(try PreprocessingStep.steps(metadataJSON: "[]", leadCount: 12).isEmpty)
    }

    @Test(arguments: [
        (#"[{"op":"standardize","mean":[0],"std":[1]}]"#, "step 0: standardize needs 2 means"),
        (#"[{"op":"standardize","mean":[0,0],"std":[1,0]}]"#, "step 0: standardize needs finite means and positive"),
        (#"[{"op":"standardize","mean":[0,"a"],"std":[1,1]}]"#, "step 0: \"mean\" holds a string"),
        (#"[{"op":"standardize","mean":[0,0],"std":[1,1]},{"op":"sos_filter","sos":[[1,0,0,2,0,0]]}]"#, "step 1: "),
        (#"[{"op":"sos_filter","sos":[[1,0,0,1,0,2]]}]"#, "step 0: sos_filter section 0 is not stable"),
        (#"[{"op":"sos_filter"}]"#, "step 0: sos_filter needs \"sos\""),
        (#"[{"op":"wavelet"}]"#, "step 0: unknown op \"wavelet\""),
        (#"[{"mean":[0,0]}]"#, "step 0: no \"op\" string"),
        (#"[3]"#, "step 0: a number, not an object"),
        (#"{"op":"standardize"}"#, "is a object, not an array"),
        ("[{", "ecg.preprocessing is not JSON"),
    ])
    func namesTheKeyTheStepAndTheProblem(json: String, expected: String) {
        let error = #expect(throws: StreamError.self) {
            try PreprocessingStep.steps(metadataJSON: json, leadCount: 2)
        }
        guard case .badConfiguration(let reason) = error else {
            Issue.record("expected badConfiguration, got \(String(describing: error))")
            return
        }
        #expect(reason.hasPrefix("ecg.preprocessing"))
        #expect(reason.contains(expected), "\(reason)")
    }
}
