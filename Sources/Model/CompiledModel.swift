import FoundationEssentials

/// A loaded IncepSE-family model: its configuration, compiled plan and folded weights.
///
/// Immutable and `Sendable`; every inference worker runs it through its own ``PlanExecutor``.
public struct CompiledModel: Sendable {
    /// Classes, thresholds, rate, window and preprocessing from the file's metadata.
    public let config: ModelConfig
    /// The fused layers the graph compiled to.
    public let plan: ModelPlan
    /// The weights, BatchNorm folded.
    public let weights: ModelWeights
    /// The probability a logit of the model stands for: the logistic function, the outputs being independent
    /// binary classifiers.
    public static func probability(logit: Float) -> Float {
        Layers.sigmoid(logit)
    }

    /// Whether the graph's output was probabilities (it ended in a Sigmoid); the engine reads the logits before
    /// that Sigmoid either way, so callers apply exactly one sigmoid.
    public var graphOutputsProbabilities: Bool { plan.droppedFinalSigmoid }
    /// Things the caller should log (a model without metadata runs with defaults).
    public var warnings: [String] { config.warning.map { [$0] } ?? [] }

    /// Loads the ONNX model at `path`.
    ///
    /// - Throws: ``ModelError/unreadable(path:reason:)`` if the file cannot be read;
    ///   ``ModelError/badFile(path:problem:)``, naming the file and the problem, if it is not a model the engine
    ///   can run exactly or its metadata is inconsistent.
    public init(contentsOf path: String) throws(ModelError) {
        self = try ModelError.loading(path, Self.init(bytes:))
    }

    /// Loads a model from the bytes of an ONNX file.
    ///
    /// - Throws: ``ModelError`` as ``init(contentsOf:)``.
    public init(bytes: [UInt8]) throws(ModelError) {
        let onnx = try ONNXModel(bytes: bytes)
        (plan, weights) = try PlanCompiler.compile(onnx)
        config = try ModelConfig(
            metadata: onnx.metadata, classCount: plan.outputCount, leadCount: plan.inputChannels)
    }
}
