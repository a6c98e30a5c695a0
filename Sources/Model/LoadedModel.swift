/// A model file as the daemon serves it: a windowed model, compiled for the windowed engine, or a streaming
/// model (`ecg.architecture` `IncepSE-streaming`) for the ``StreamingExecutor``.
public enum LoadedModel: Sendable {
    case windowed(CompiledModel)
    case streaming(StreamingModel)

    /// Loads the model at `path`, choosing the engine from its metadata.
    ///
    /// - Throws: ``ModelError`` as ``CompiledModel/init(contentsOf:)`` and ``StreamingModel/init(contentsOf:)``.
    public init(contentsOf path: String) throws(ModelError) {
        self = try ModelError.loading(path) { bytes throws(ModelError) in
            try StreamingModel.isStreaming(bytes: bytes)
                ? .streaming(try StreamingModel(bytes: bytes)) : .windowed(try CompiledModel(bytes: bytes))
        }
    }

    /// Classes, thresholds, rate, window and preprocessing from the file's metadata.
    public var config: ModelConfig {
        switch self {
        case .windowed(let model): model.config
        case .streaming(let model): model.config
        }
    }

    /// Things the caller should log.
    public var warnings: [String] {
        switch self {
        case .windowed(let model): model.warnings
        case .streaming(let model): model.config.warning.map { [$0] } ?? []
        }
    }

    /// The number of outputs.
    public var classCount: Int {
        switch self {
        case .windowed(let model): model.plan.outputCount
        case .streaming(let model): model.classCount
        }
    }

    /// The number of input leads.
    public var leadCount: Int {
        switch self {
        case .windowed(let model): model.plan.inputChannels
        case .streaming(let model): model.leadCount
        }
    }
}
