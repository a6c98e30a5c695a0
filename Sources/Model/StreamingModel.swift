import FoundationEssentials

/// A streaming model (docs/model-format.md, "Streaming models"): IncepSE in its causal form, served one hop of new
/// samples at a time by a ``StreamingExecutor``.
///
/// The file's graph is the full-sequence reference for ONNX Runtime; the engine does not compile it. It reads the
/// parameters by their PyTorch names and the structure from the metadata and the weights' shapes: modules
/// `inception.N` (a 1×1 bottleneck, causal convolutions of any kernels, a causal max pool of 3 with a 1×1
/// convolution, BatchNorm over the concatenation, ReLU), each followed by its gate `excitation.N` (two dense
/// layers on the running mean of the module output), a residual shortcut `shortcuts.M` (1×1 convolution and
/// BatchNorm) every `modules / shortcuts` modules, and the dense `head` on the running mean of the last module's
/// output. BatchNorms are folded into the convolutions before them.
public struct StreamingModel: Sendable {
    /// The `ecg.architecture` value of a streaming model.
    public static let architecture = "IncepSE-streaming"

    /// A run of taps of a module's causal convolutions and the stacked weights of every convolution covering them:
    /// one product computes all of them, each tap multiplied once.
    struct TapBlock: Sendable {
        /// The first tap, counted from the oldest of the longest kernel (`span − 1` samples back).
        let firstTap: Int
        let taps: Int
        /// Output channels `0..<outputs`: the covering convolutions are the first ones, kernels being longest first.
        let outputs: Int
        /// `[outputs][taps · bottleneck]`, tap-major.
        let weights: [Float]
    }

    /// One inception module with its gate.
    struct Module: Sendable {
        /// The 1×1 bottleneck (no bias).
        let bottleneck: ModelWeights.Convolution
        /// The causal convolutions on the bottleneck, in output-channel order, BatchNorm folded.
        let branches: [ModelWeights.Convolution]
        /// The 1×1 convolution after the max pool, BatchNorm folded.
        let pool: ModelWeights.Convolution
        let squeeze: ModelWeights.Dense
        let excite: ModelWeights.Dense
        /// The branches' products, by runs of taps.
        let blocks: [TapBlock]

        init(
            bottleneck: ModelWeights.Convolution,
            branches: [ModelWeights.Convolution],
            pool: ModelWeights.Convolution,
            squeeze: ModelWeights.Dense,
            excite: ModelWeights.Dense
        ) {
            self.bottleneck = bottleneck
            self.branches = branches
            self.pool = pool
            self.squeeze = squeeze
            self.excite = excite
            let span = branches.map(\.kernel).max() ?? 1
            let filters = bottleneck.outputs
            // kernel k covers taps span − k ..< span; block boundaries fall where a kernel starts
            let starts = Set(branches.map { span - $0.kernel }).sorted()
            blocks = starts.indices.map { index in
                let firstTap = starts[index]
                let taps = (index + 1 < starts.count ? starts[index + 1] : span) - firstTap
                let covering = branches.prefix { span - $0.kernel <= firstTap }
                var weights: [Float] = []
                for branch in covering {
                    let offset = firstTap - (span - branch.kernel)
                    for o in 0..<branch.outputs {
                        let row = (o * branch.kernel + offset) * filters
                        weights += branch.weights[row..<row + taps * filters]
                    }
                }
                return TapBlock(
                    firstTap: firstTap, taps: taps, outputs: covering.reduce(0) { $0 + $1.outputs }, weights: weights)
            }
        }

        var inputs: Int { pool.inputs }
        /// Output channels: every branch and the pool's.
        var width: Int { branches.reduce(pool.outputs) { $0 + $1.outputs } }
        /// The longest kernel: the bottleneck history a stream keeps is one sample shorter.
        var span: Int { branches.map(\.kernel).max() ?? 1 }
    }

    /// Classes, thresholds, rate and preprocessing from the file's metadata.
    public let config: ModelConfig
    /// The time constant of every running mean, samples at the model rate.
    public let timeConstantSamples: Double
    /// Samples into a stream before its logits are read.
    public let firstReadoutSamples: Int
    let modules: [Module]
    /// One per `residualEvery` modules.
    let shortcuts: [ModelWeights.Convolution]
    let head: ModelWeights.Dense

    /// Modules per residual shortcut.
    var residualEvery: Int { modules.count / shortcuts.count }
    /// The per-sample decay of the running means.
    var decay: Float { Float(1 - 1 / timeConstantSamples) }
    /// The number of outputs.
    public var classCount: Int { head.outputs }
    /// The number of input leads.
    public var leadCount: Int { modules[0].inputs }

    /// Whether an ONNX file's metadata says it holds a streaming model.
    ///
    /// - Throws: ``ModelError`` when the bytes are not an ONNX model.
    public static func isStreaming(bytes: [UInt8]) throws(ModelError) -> Bool {
        try ONNXModel(bytes: bytes).metadata.contains { $0.key == "ecg.architecture" && $0.value == architecture }
    }

    /// Loads the streaming model at `path`.
    ///
    /// - Throws: ``ModelError/unreadable(path:reason:)`` if the file cannot be read; ``ModelError/badFile(path:problem:)``
    ///   naming the problem otherwise.
    public init(contentsOf path: String) throws(ModelError) {
        self = try ModelError.loading(path, Self.init(bytes:))
    }

    /// Loads a streaming model from the bytes of an ONNX file.
    ///
    /// - Throws: ``ModelError/badMetadata(key:reason:)`` for a file that is not a streaming model or whose
    ///   `ecg.streaming` value is unusable; ``ModelError/missingTensor(name:node:)``,
    ///   ``ModelError/shapeMismatch(tensor:expected:found:)`` or ``ModelError/nonFiniteWeight(tensor:index:)``
    ///   naming the parameter at fault.
    public init(bytes: [UInt8]) throws(ModelError) {
        let onnx = try ONNXModel(bytes: bytes)
        let values = Dictionary(onnx.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard values["ecg.architecture"] == Self.architecture else {
            throw .badMetadata(key: "ecg.architecture", reason: "not \(Self.architecture): not a streaming model")
        }
        let streaming = try StreamingSettings(json: values["ecg.streaming"])
        timeConstantSamples = streaming.timeConstantSamples
        firstReadoutSamples = streaming.firstReadoutSamples

        let weights = NamedWeights(graph: onnx.graph)
        var modules: [Module] = []
        while weights.has("inception.\(modules.count).bottleneck.weight") {
            modules.append(try weights.module(modules.count))
        }
        guard let first = modules.first else { throw .missingTensor(name: "inception.0.bottleneck.weight", node: "") }
        var shortcuts: [ModelWeights.Convolution] = []
        while weights.has("shortcuts.\(shortcuts.count).0.weight") {
            shortcuts.append(
                try weights.convolution("shortcuts.\(shortcuts.count).0", norm: "shortcuts.\(shortcuts.count).1"))
        }
        guard !shortcuts.isEmpty, modules.count % shortcuts.count == 0 else {
            throw .badMetadata(
                key: "ecg.architecture",
                reason: "\(modules.count) modules and \(shortcuts.count) shortcuts: a shortcut must close every block"
            )
        }
        let every = modules.count / shortcuts.count
        var channels = first.inputs
        for (index, module) in modules.enumerated() {
            guard module.inputs == channels else {
                throw .shapeMismatch(
                    tensor: "inception.\(index).pool_conv.weight", expected: "\(channels) input channels",
                    found: "\(module.inputs)")
            }
            if index % every == every - 1 {
                let shortcut = shortcuts[index / every]
                let blockInputs = modules[index + 1 - every].inputs
                guard shortcut.inputs == blockInputs, shortcut.outputs == module.width else {
                    throw .shapeMismatch(
                        tensor: "shortcuts.\(index / every).0.weight",
                        expected: "[\(module.width)][\(blockInputs)][1]",
                        found: "[\(shortcut.outputs)][\(shortcut.inputs)]")
                }
            }
            channels = module.width
        }
        head = try weights.dense("head", inputs: channels)
        self.modules = modules
        self.shortcuts = shortcuts
        config = try ModelConfig(metadata: onnx.metadata, classCount: head.outputs, leadCount: first.inputs)
    }
}

/// The `ecg.streaming` metadata value.
private struct StreamingSettings: Decodable {
    let timeConstantSamples: Double
    let firstReadoutSamples: Int

    enum CodingKeys: String, CodingKey {
        case timeConstantSamples = "time_constant_samples"
        case firstReadoutSamples = "first_readout_samples"
    }

    init(json: String?) throws(ModelError) {
        let key = "ecg.streaming"
        guard let json else { throw .badMetadata(key: key, reason: "missing") }
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(json.utf8))
        } catch {
            throw .badMetadata(key: key, reason: "not the expected JSON (\(error))")
        }
        guard timeConstantSamples >= 1, timeConstantSamples.isFinite else {
            throw .badMetadata(key: key, reason: "time_constant_samples must be a finite number of samples ≥ 1")
        }
        guard firstReadoutSamples >= 1 else {
            throw .badMetadata(key: key, reason: "first_readout_samples must be at least 1")
        }
    }
}

/// The parameters of a graph by name: initializers, and the names the exporter gave as `Identity` of an equal
/// initializer.
private struct NamedWeights {
    let tensors: [String: ONNXTensor]
    let epsilons: [String: Double]

    init(graph: ONNXGraph) {
        var tensors = graph.initializers
        var epsilons: [String: Double] = [:]
        for node in graph.nodes {
            if node.opType == "Identity", let source = node.inputs.first, let output = node.outputs.first,
                let tensor = tensors[source]
            {
                tensors[output] = tensor
            }
            if node.opType == "BatchNormalization", node.inputs.count == 5 {
                epsilons[node.inputs[1]] = Double(node.attributes["epsilon"]?.float ?? 1e-5)
            }
        }
        self.tensors = tensors
        self.epsilons = epsilons
    }

    func has(_ name: String) -> Bool { tensors[name] != nil }

    /// The values of `name`, checked to have `dims` (nil entries: any size) and to be finite.
    func values(_ name: String, dims: [Int?]) throws(ModelError) -> (values: [Float], dims: [Int]) {
        guard let tensor = tensors[name] else { throw .missingTensor(name: name, node: "") }
        let expected = "[" + dims.map { $0.map(String.init) ?? "_" }.joined(separator: "][") + "]"
        let found = "[" + tensor.dims.map(String.init).joined(separator: "][") + "]"
        guard tensor.dataType == ONNXTensor.float32, tensor.dims.count == dims.count,
            zip(tensor.dims, dims).allSatisfy({ $1 == nil || $0 == $1 }), tensor.dims.allSatisfy({ $0 > 0 })
        else {
            throw .shapeMismatch(tensor: name, expected: expected, found: found)
        }
        if let bad = tensor.floats.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteWeight(tensor: name, index: bad)
        }
        return (tensor.floats, tensor.dims)
    }

    /// BatchNorm `prefix` as a per-channel `scale` and `shift` (`y = scale · x + shift`).
    func norm(_ prefix: String, channels: Int) throws(ModelError) -> (scale: [Double], shift: [Double]) {
        let gamma = try values(prefix + ".weight", dims: [channels]).values
        let beta = try values(prefix + ".bias", dims: [channels]).values
        let mean = try values(prefix + ".running_mean", dims: [channels]).values
        let variance = try values(prefix + ".running_var", dims: [channels]).values
        let epsilon = epsilons[prefix + ".weight"] ?? 1e-5
        guard variance.allSatisfy({ Double($0) + epsilon > 0 }) else {
            throw .nonFiniteWeight(tensor: prefix + ".running_var", index: variance.firstIndex { $0 < 0 } ?? 0)
        }
        let scale = (0..<channels).map { Double(gamma[$0]) / (Double(variance[$0]) + epsilon).squareRoot() }
        let shift = (0..<channels).map { Double(beta[$0]) - Double(mean[$0]) * scale[$0] }
        return (scale, shift)
    }

    /// Convolution `prefix` (no bias), with `scale`/`shift` folded in (identity when nil).
    func convolution(
        _ prefix: String,
        inputs: Int? = nil,
        scale: ArraySlice<Double>? = nil,
        shift: ArraySlice<Double>? = nil
    ) throws(ModelError) -> ModelWeights.Convolution {
        let (weights, dims) = try values(prefix + ".weight", dims: [nil, inputs, nil])
        let outputs = dims[0]
        return ModelWeights.Convolution(
            onnxWeights: weights, outputs: outputs, inputs: dims[1], kernel: dims[2],
            scale: scale.map(Array.init) ?? Array(repeating: 1, count: outputs),
            shift: shift.map(Array.init) ?? Array(repeating: 0, count: outputs))
    }

    /// A 1×1 convolution `prefix` followed by BatchNorm `norm`, folded.
    func convolution(_ prefix: String, norm normPrefix: String) throws(ModelError) -> ModelWeights.Convolution {
        let outputs = try values(prefix + ".weight", dims: [nil, nil, 1]).dims[0]
        let (scale, shift) = try norm(normPrefix, channels: outputs)
        return try convolution(prefix, scale: scale[...], shift: shift[...])
    }

    func dense(_ prefix: String, inputs: Int) throws(ModelError) -> ModelWeights.Dense {
        let (weights, dims) = try values(prefix + ".weight", dims: [nil, inputs])
        let bias = try values(prefix + ".bias", dims: [dims[0]]).values
        return ModelWeights.Dense(outputs: dims[0], inputs: inputs, weights: weights, bias: bias)
    }

    func module(_ index: Int) throws(ModelError) -> StreamingModel.Module {
        let prefix = "inception.\(index)"
        let bottleneck = try convolution(prefix + ".bottleneck")
        guard bottleneck.kernel == 1 else {
            throw .shapeMismatch(
                tensor: prefix + ".bottleneck.weight", expected: "[_][_][1]", found: "kernel \(bottleneck.kernel)")
        }
        var branchShapes: [(name: String, outputs: Int)] = []
        while has("\(prefix).convs.\(branchShapes.count).weight") {
            let name = "\(prefix).convs.\(branchShapes.count)"
            branchShapes.append((name, try values(name + ".weight", dims: [nil, bottleneck.outputs, nil]).dims[0]))
        }
        guard !branchShapes.isEmpty else { throw .missingTensor(name: prefix + ".convs.0.weight", node: "") }
        let kernels = try branchShapes.map { branch throws(ModelError) in
            try values(branch.name + ".weight", dims: [nil, nil, nil]).dims[2]
        }
        guard kernels == kernels.sorted(by: >) else {
            throw .unsupportedUsage(
                node: prefix + ".convs", reason: "kernels \(kernels): the streaming engine needs the longest first")
        }
        let poolOutputs = try values(prefix + ".pool_conv.weight", dims: [nil, bottleneck.inputs, 1]).dims[0]
        let width = branchShapes.reduce(poolOutputs) { $0 + $1.outputs }
        let (scale, shift) = try norm(prefix + ".bn", channels: width)
        var branches: [ModelWeights.Convolution] = []
        var offset = 0
        for (name, outputs) in branchShapes {
            let channels = offset..<offset + outputs
            branches.append(
                try convolution(name, inputs: bottleneck.outputs, scale: scale[channels], shift: shift[channels]))
            offset += outputs
        }
        let pool = try convolution(prefix + ".pool_conv", scale: scale[offset...], shift: shift[offset...])
        let squeeze = try dense("excitation.\(index).squeeze", inputs: width)
        let excite = try dense("excitation.\(index).excite", inputs: squeeze.outputs)
        guard excite.outputs == width else {
            throw .shapeMismatch(
                tensor: "excitation.\(index).excite.weight", expected: "[\(width)][_]", found: "[\(excite.outputs)][_]")
        }
        return StreamingModel.Module(
            bottleneck: bottleneck, branches: branches, pool: pool, squeeze: squeeze, excite: excite)
    }
}
