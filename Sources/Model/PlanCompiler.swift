/// Turns an ONNX graph into a ``ModelPlan`` and its ``ModelWeights``.
///
/// The compiler walks the nodes in their (topological) file order, tracking what every named value is: a sequence
/// `[batch][channels][time]` (optionally with a unit axis, `[batch][channels][1][time]`, as 2-D pooling exports
/// produce), a per-window vector `[batch][channels]` with trailing unit dimensions, or a constant. Each operator
/// either becomes a fused layer, folds into one (BatchNorm, ReLU, bias), or renames a value (shape-only ops).
/// Whatever does not map onto the layers exactly is refused with the node named.
struct PlanCompiler {
    /// What a named graph value is.
    enum Symbol {
        /// A tensor of the plan; `extraDims` counts unit dimensions beyond `[batch][channels]` (vectors) or
        /// between channels and time (sequences).
        case tensor(Int, extraDims: Int)
        case constant(ONNXTensor)
    }

    /// Which layer computes a tensor, for the fusions that need to reach back into it.
    enum Producer {
        case input
        case convolution(Int)
        case concat([Int])
        case add(Int)
        case dense(Int)
        case other
    }

    struct Tensor {
        var isSequence: Bool
        var channels: Int
        var producer: Producer
        /// Set when the tensor lives inside another one: a concatenation slice or an in-place result.
        var storage: (parent: Int, channelOffset: Int)?
        var names: [String] = []
        /// Shape-only nodes (Identity, Squeeze, …) that read this tensor; they are not real uses.
        var aliasNodes = 0
    }

    struct ConvolutionProto {
        var input: Int
        var output: Int
        var kernel: Int
        var padLeft: Int
        var outputs: Int
        var inputs: Int
        var weights: [Float]
        var scale: [Double]
        var shift: [Double]
        var relu = false
    }

    struct DenseProto {
        var outputs: Int
        var inputs: Int
        var weights: [Float]
        var bias: [Double]?
        var activation = Activation.identity
    }

    /// A layer before grouping and buffer placement; operands are tensor ids.
    enum Proto {
        case convolution(Int)
        case maxPool(input: Int, output: Int, kernel: Int, padLeft: Int)
        case add(Int, Int, output: Int, relu: Bool)
        case sequenceActivation(input: Int, output: Int, Activation)
        case copy(input: Int, output: Int)
        case timeMean(input: Int, output: Int, rectified: Bool)
        case dense(Int, input: Int, output: Int)
        case vectorActivation(input: Int, output: Int, Activation)
        case scaleChannels(GateProto)
    }

    /// Squeeze-and-excitation gating with what the fusions in ``fuseIntoGates()`` moved into it; operands are
    /// tensor ids.
    struct GateProto {
        var input: Int
        var gates: Int
        var output: Int
        var rectified = false
        /// A residual sum that only the gated values fed, and the ReLU after it.
        var residual: Int?
        var relu = false
        /// The max pooling of the output.
        var pool: (output: Int, kernel: Int, padLeft: Int)?
    }

    let graph: ONNXGraph
    let opset: Int64
    /// How many nodes (and graph outputs) read each name.
    let consumers: [String: Int]
    var symbols: [String: Symbol] = [:]
    var tensors: [Tensor] = []
    var convolutions: [ConvolutionProto] = []
    var denses: [DenseProto] = []
    var protos: [Proto] = []
    var inputTensor = 0
    var inputChannels = 0
    var fixedBatch: Int?
    var fixedTime: Int?

    /// Compiles `model` into a plan and its weights.
    ///
    /// - Throws: ``ModelError`` naming the operator, node or tensor that cannot be run exactly.
    static func compile(_ model: ONNXModel) throws(ModelError) -> (ModelPlan, ModelWeights) {
        var compiler = try PlanCompiler(model)
        for node in model.graph.nodes { try compiler.compile(node) }
        return try compiler.finish()
    }

    private init(_ model: ONNXModel) throws(ModelError) {
        graph = model.graph
        guard let version = model.opsets[""] ?? model.opsets["ai.onnx"] else {
            throw .badSignature(reason: "the model imports no default ONNX operator set")
        }
        guard (13...22).contains(version) else {
            throw .badSignature(reason: "ONNX opset \(version) is not supported (13 to 22 are)")
        }
        opset = version
        var counts: [String: Int] = [:]
        for node in graph.nodes {
            for name in node.inputs where !name.isEmpty { counts[name, default: 0] += 1 }
        }
        for output in graph.outputs { counts[output.name, default: 0] += 1 }
        consumers = counts
        try bindInput()
    }

    private mutating func bindInput() throws(ModelError) {
        let inputs = graph.inputs.filter { graph.initializers[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw .badSignature(reason: "expected one input [batch, leads, time], found \(inputs.count)")
        }
        guard let dims = input.dims, dims.count == 3, case .fixed(let channels) = dims[1], channels > 0 else {
            throw .badSignature(reason: "input \(input.name) must be [batch, leads, time] with a fixed lead count")
        }
        if case .fixed(let batch) = dims[0] { fixedBatch = batch }
        if case .fixed(let time) = dims[2] { fixedTime = time }
        inputChannels = channels
        inputTensor = newTensor(sequence: true, channels: channels, producer: .input)
        bind(input.name, to: inputTensor, extraDims: 0)
    }

    // MARK: - Values

    mutating func newTensor(
        sequence: Bool, channels: Int, producer: Producer, storage: (parent: Int, channelOffset: Int)? = nil
    ) -> Int {
        tensors.append(Tensor(isSequence: sequence, channels: channels, producer: producer, storage: storage))
        return tensors.count - 1
    }

    mutating func bind(_ name: String, to tensor: Int, extraDims: Int) {
        symbols[name] = .tensor(tensor, extraDims: extraDims)
        tensors[tensor].names.append(name)
    }

    /// Gives `output` the value of `input` under a new shape (a shape-only node).
    mutating func alias(_ output: String, to tensor: Int, extraDims: Int) {
        bind(output, to: tensor, extraDims: extraDims)
        tensors[tensor].aliasNodes += 1
    }

    /// How many nodes really compute with the tensor (shape-only renamings excluded).
    func realUses(_ tensor: Int) -> Int {
        tensors[tensor].names.reduce(0) { $0 + (consumers[$1] ?? 0) } - tensors[tensor].aliasNodes
    }

    /// The output of an elementwise layer: written over its input when nothing else reads the input.
    mutating func elementwiseOutput(of input: Int) -> Int {
        let t = tensors[input]
        return realUses(input) == 1
            ? newTensor(sequence: t.isSequence, channels: t.channels, producer: .other, storage: (input, 0))
            : newTensor(sequence: t.isSequence, channels: t.channels, producer: .other)
    }

    func symbol(_ name: String, _ node: ONNXNode) throws(ModelError) -> Symbol {
        if let symbol = symbols[name] { return symbol }
        if let initializer = graph.initializers[name] { return .constant(initializer) }
        throw .missingTensor(name: name, node: node.label)
    }

    /// The tensor an input refers to; a constant there is not supported.
    func tensor(_ name: String, _ node: ONNXNode) throws(ModelError) -> (id: Int, extraDims: Int) {
        guard case .tensor(let id, let extra) = try symbol(name, node) else {
            throw .unsupportedUsage(node: node.label, reason: "input \(name) is a constant where activations go")
        }
        return (id, extra)
    }

    func constant(_ name: String, _ node: ONNXNode) throws(ModelError) -> ONNXTensor {
        guard case .constant(let value) = try symbol(name, node) else {
            throw .unsupportedUsage(node: node.label, reason: "input \(name) must be a constant (weights, axes, shape)")
        }
        return value
    }

    /// A float32 constant with the given element count, every value finite.
    func weights(_ name: String, _ node: ONNXNode, count: Int, shape: String) throws(ModelError) -> [Float] {
        let value = try constant(name, node)
        guard value.dataType == ONNXTensor.float32 else {
            throw .unsupportedDataType(tensor: name, dataType: value.dataType)
        }
        guard value.elementCount == count else {
            throw .shapeMismatch(tensor: name, expected: shape, found: "\(value.dims)")
        }
        if let bad = value.floats.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteWeight(tensor: name, index: bad)
        }
        return value.floats
    }

    /// An int64 constant (axes, shapes, pads).
    func integers(_ name: String, _ node: ONNXNode) throws(ModelError) -> [Int] {
        let value = try constant(name, node)
        guard value.dataType == ONNXTensor.int64 else {
            throw .unsupportedDataType(tensor: name, dataType: value.dataType)
        }
        return value.int64s.map { Int(clamping: $0) }
    }

    /// The most channels a layer may produce: the workspace holds every buffer at the widest layer's depth, and a
    /// file claiming more would ask for gigabytes before the first window.
    static let maxChannels = 16384

    func requireChannelLimit(_ channels: Int, _ node: ONNXNode) throws(ModelError) {
        guard channels <= Self.maxChannels else {
            throw .unsupportedUsage(
                node: node.label, reason: "\(channels) channels exceed the limit of \(Self.maxChannels)")
        }
    }

    /// Input `index` of the node, or nil if absent or empty (optional inputs).
    func optionalInput(_ node: ONNXNode, _ index: Int) -> String? {
        index < node.inputs.count && !node.inputs[index].isEmpty ? node.inputs[index] : nil
    }

    func requireInputs(_ node: ONNXNode, _ count: Int) throws(ModelError) {
        guard node.inputs.count >= count, !node.outputs.isEmpty else {
            throw .unsupportedUsage(node: node.label, reason: "expected \(count) inputs, found \(node.inputs.count)")
        }
    }

    /// Refuses nodes whose extra outputs (BatchNorm statistics, MaxPool indices, Dropout mask) are read.
    func requireOnlyFirstOutputUsed(_ node: ONNXNode) throws(ModelError) {
        for extra in node.outputs.dropFirst() where !extra.isEmpty && (consumers[extra] ?? 0) > 0 {
            throw .unsupportedUsage(node: node.label, reason: "its output \(extra) is used")
        }
    }

    func intAttribute(_ node: ONNXNode, _ name: String, default value: Int) -> Int {
        node.attributes[name]?.int.map { Int(clamping: $0) } ?? value
    }

    func intsAttribute(_ node: ONNXNode, _ name: String) -> [Int]? {
        node.attributes[name].map { $0.ints.map { Int(clamping: $0) } }
    }

    /// Axes normalised to `0..<rank`; out-of-range axes are an error.
    func normalized(_ axes: [Int], rank: Int, _ node: ONNXNode) throws(ModelError) -> [Int] {
        var result: [Int] = []
        for axis in axes {
            let a = axis < 0 ? axis + rank : axis
            guard (0..<rank).contains(a) else {
                throw .unsupportedUsage(node: node.label, reason: "axis \(axis) is out of range for rank \(rank)")
            }
            result.append(a)
        }
        return result.sorted()
    }
}
