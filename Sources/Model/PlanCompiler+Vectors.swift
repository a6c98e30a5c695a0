/// Operators on per-window vectors (pooling, dense layers) and the shape-only operators.
extension PlanCompiler {
    /// `ReduceMean` over time or `GlobalAveragePool`: sequence → vector; on a vector, a reduction over unit axes.
    mutating func timeMean(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 1)
        let (x, extra) = try tensor(node.inputs[0], node)
        let rank = (tensors[x].isSequence ? 3 : 2) + extra
        let keepDims: Bool
        let axes: [Int]
        if node.opType == "GlobalAveragePool" {
            keepDims = true
            axes = Array(2..<rank)
        } else {
            keepDims = intAttribute(node, "keepdims", default: 1) != 0
            let given =
                opset >= 18
                ? try optionalInput(node, 1).map { n throws(ModelError) in try integers(n, node) }
                : intsAttribute(node, "axes")
            guard let given, !given.isEmpty else {
                throw .unsupportedUsage(node: node.label, reason: "ReduceMean over all axes")
            }
            axes = try normalized(given, rank: rank, node)
        }
        let remaining = keepDims ? rank : rank - axes.count
        if !tensors[x].isSequence {
            guard axes.allSatisfy({ $0 >= 2 }) else {
                throw .unsupportedUsage(node: node.label, reason: "mean over the batch or channel axis")
            }
            alias(node.outputs[0], to: x, extraDims: remaining - 2)
            return
        }
        // Time is the last axis; the unit axis of a 4-D sequence may be reduced with it.
        let allowed = extra == 1 ? [[rank - 1], [2, rank - 1]] : [[rank - 1]]
        guard allowed.contains(axes) else {
            throw .unsupportedUsage(node: node.label, reason: "mean over axes \(axes); only the time axis is supported")
        }
        let output = newTensor(sequence: false, channels: tensors[x].channels, producer: .other)
        protos.append(.timeMean(input: x, output: output, rectified: false))
        bind(node.outputs[0], to: output, extraDims: remaining - 2)
    }

    /// `Gemm` (`alpha · A · op(B) + beta · C`) or `MatMul` with a constant right operand: a dense layer.
    mutating func dense(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 2)
        let (x, extra) = try tensor(node.inputs[0], node)
        guard !tensors[x].isSequence, extra == 0 else {
            throw .unsupportedUsage(node: node.label, reason: "\(node.opType) is only supported on [batch, features]")
        }
        let inputs = tensors[x].channels
        let b = try constant(node.inputs[1], node)
        let transposed = node.opType == "Gemm" && intAttribute(node, "transB", default: 0) != 0
        guard node.opType == "MatMul" || intAttribute(node, "transA", default: 0) == 0 else {
            throw .unsupportedUsage(node: node.label, reason: "Gemm with transA")
        }
        guard b.dims.count == 2, b.dims[transposed ? 1 : 0] == inputs else {
            let expected = transposed ? "[out, \(inputs)]" : "[\(inputs), out]"
            throw .shapeMismatch(tensor: node.inputs[1], expected: expected, found: "\(b.dims)")
        }
        let outputs = b.dims[transposed ? 0 : 1]
        try requireChannelLimit(outputs, node)
        let raw = try weights(node.inputs[1], node, count: b.elementCount, shape: "\(b.dims)")
        let alpha = node.opType == "Gemm" ? node.attributes["alpha"]?.float ?? 1 : 1
        var w = [Float](repeating: 0, count: outputs * inputs)
        for o in 0..<outputs {
            for i in 0..<inputs {
                w[o * inputs + i] = alpha * (transposed ? raw[o * inputs + i] : raw[i * outputs + o])
            }
        }
        var bias: [Double]?
        if node.opType == "Gemm", let c = optionalInput(node, 2) {
            let beta = Double(node.attributes["beta"]?.float ?? 1)
            let value = try constant(c, node)
            let count = value.elementCount == 1 ? 1 : outputs
            let values = try weights(c, node, count: count, shape: "[\(outputs)]")
            bias = (0..<outputs).map { beta * Double(values[count == 1 ? 0 : $0]) }
        }
        try appendDense(node, input: x, weights: w, outputs: outputs, bias: bias, extraDims: 0)
    }

    /// Adds a dense layer `[outputs][inputs]` reading vector `input`.
    mutating func appendDense(
        _ node: ONNXNode, input: Int, weights: [Float], outputs: Int, bias: [Double]?, extraDims: Int
    ) throws(ModelError) {
        denses.append(DenseProto(outputs: outputs, inputs: tensors[input].channels, weights: weights, bias: bias))
        let output = newTensor(sequence: false, channels: outputs, producer: .dense(denses.count - 1))
        protos.append(.dense(denses.count - 1, input: input, output: output))
        bind(node.outputs[0], to: output, extraDims: extraDims)
    }

    /// Shape-only operators: they rename a value with unit dimensions added or removed, never moving data.
    mutating func reshape(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 1)
        let (x, extra) = try tensor(node.inputs[0], node)
        let isSequence = tensors[x].isSequence
        let rank = (isSequence ? 3 : 2) + extra
        let refuse = ModelError.unsupportedUsage(
            node: node.label, reason: "\(node.opType) that moves the batch, channel or time axis")
        var newExtra: Int
        switch node.opType {
        case "Flatten":
            guard !isSequence, intAttribute(node, "axis", default: 1) == 1 else { throw refuse }
            newExtra = 0
        case "Reshape":
            guard !isSequence, node.inputs.count >= 2 else { throw refuse }
            let shape = try integers(node.inputs[1], node)
            let allowZero = intAttribute(node, "allowzero", default: 0) != 0
            let channels = tensors[x].channels
            let keepsBatch = shape.first == -1 || (shape.first == 0 && !allowZero)
            let keepsChannels =
                shape.count >= 2
                && (shape[1] == channels || (shape[1] == -1 && shape[0] != -1) || (shape[1] == 0 && !allowZero))
            guard keepsBatch, keepsChannels, shape.dropFirst(2).allSatisfy({ $0 == 1 }) else { throw refuse }
            newExtra = shape.count - 2
        default:
            let axesValue =
                opset >= 13
                ? try optionalInput(node, 1).map { n throws(ModelError) in try integers(n, node) }
                : intsAttribute(node, "axes")
            guard let axesValue, !axesValue.isEmpty else { throw refuse }
            let unsqueeze = node.opType == "Unsqueeze"
            let axes = try normalized(axesValue, rank: unsqueeze ? rank + axesValue.count : rank, node)
            newExtra = extra + (unsqueeze ? axes.count : -axes.count)
            // Sequences gain or lose only the unit axis between channels and time; vectors only trailing ones.
            let valid = isSequence ? axes == [2] && newExtra >= 0 && newExtra <= 1 : axes.allSatisfy { $0 >= 2 }
            guard valid, newExtra >= 0 else { throw refuse }
        }
        alias(node.outputs[0], to: x, extraDims: newExtra)
    }

    mutating func identity(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 1)
        try requireOnlyFirstOutputUsed(node)
        switch try symbol(node.inputs[0], node) {
        case .tensor(let id, let extra): alias(node.outputs[0], to: id, extraDims: extra)
        case .constant(let value): symbols[node.outputs[0]] = .constant(value)
        }
    }

    mutating func constantNode(_ node: ONNXNode) throws(ModelError) {
        guard let output = node.outputs.first else { return }
        var value = ONNXTensor()
        value.name = output
        if let tensor = node.attributes["value"]?.tensor {
            value = tensor
            value.name = output
        } else if let f = node.attributes["value_float"]?.float {
            (value.dataType, value.floats) = (ONNXTensor.float32, [f])
        } else if let floats = node.attributes["value_floats"]?.floats {
            (value.dataType, value.dims, value.floats) = (ONNXTensor.float32, [floats.count], floats)
        } else if let i = node.attributes["value_int"]?.int {
            (value.dataType, value.int64s) = (ONNXTensor.int64, [i])
        } else if let ints = node.attributes["value_ints"]?.ints {
            (value.dataType, value.dims, value.int64s) = (ONNXTensor.int64, [ints.count], ints)
        } else {
            throw .unsupportedUsage(node: node.label, reason: "Constant without a numeric value")
        }
        symbols[output] = .constant(value)
    }
}
