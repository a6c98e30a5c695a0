/// Operators on sequences: convolution, BatchNorm folding, pooling, concatenation, residual sums, gates.
extension PlanCompiler {
    /// Dispatches one node to its handler; unknown operators are refused.
    mutating func compile(_ node: ONNXNode) throws(ModelError) {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw .unsupportedOperator(op: "\(node.domain)::\(node.opType)", node: node.label)
        }
        switch node.opType {
        case "Conv": try convolution(node)
        case "BatchNormalization": try batchNormalization(node)
        case "Relu": try activation(node, .relu)
        case "Sigmoid": try activation(node, .sigmoid)
        case "MaxPool": try maxPool(node)
        case "Concat": try concat(node)
        case "Add": try add(node)
        case "Mul": try multiply(node)
        case "ReduceMean", "GlobalAveragePool": try timeMean(node)
        case "Gemm", "MatMul": try dense(node)
        case "Flatten", "Reshape", "Squeeze", "Unsqueeze": try reshape(node)
        case "Identity", "Dropout": try identity(node)
        case "Constant": try constantNode(node)
        default: throw .unsupportedOperator(op: node.opType, node: node.label)
        }
    }

    /// Length-preserving padding `(left, right)` from `pads`/`auto_pad` for a 1-D window of `kernel`.
    private func padding(_ node: ONNXNode, kernel: Int, pads: [Int]) throws(ModelError) -> Int {
        let total = kernel - 1
        let left: Int
        let right: Int
        switch node.attributes["auto_pad"]?.string ?? "NOTSET" {
        case "SAME_UPPER":
            (left, right) = (total / 2, total - total / 2)
        case "SAME_LOWER":
            (left, right) = (total - total / 2, total / 2)
        case "VALID":
            (left, right) = (0, 0)
        case "NOTSET":
            (left, right) = pads.count == 2 ? (pads[0], pads[1]) : (0, 0)
        case let other:
            throw .unsupportedUsage(node: node.label, reason: "auto_pad \(other)")
        }
        // Compared without adding: pads come from the file and may be as large as Int64 allows.
        guard left >= 0, right >= 0, left <= total, right == total - left else {
            throw .unsupportedUsage(
                node: node.label,
                reason: "kernel \(kernel) with pads \(left)/\(right) changes the time length; only length-preserving "
                    + "windows (pads adding up to kernel − 1) are supported")
        }
        return left
    }

    private func requireUnitStridesAndDilations(_ node: ONNXNode) throws(ModelError) {
        for name in ["strides", "dilations"] {
            if let values = intsAttribute(node, name), values.contains(where: { $0 != 1 }) {
                throw .unsupportedUsage(node: node.label, reason: "\(name) \(values); only 1 is supported")
            }
        }
    }

    private mutating func convolution(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 2)
        let (x, extra) = try tensor(node.inputs[0], node)
        try requireUnitStridesAndDilations(node)
        guard intAttribute(node, "group", default: 1) == 1 else {
            throw .unsupportedUsage(node: node.label, reason: "grouped convolution")
        }
        let w = try constant(node.inputs[1], node)
        let inputs = tensors[x].channels
        guard w.dims.count == 3, w.dims[1] == inputs, w.dims[0] > 0, w.dims[2] > 0 else {
            throw .shapeMismatch(tensor: node.inputs[1], expected: "[out, \(inputs), kernel]", found: "\(w.dims)")
        }
        let (outputs, kernel) = (w.dims[0], w.dims[2])
        try requireChannelLimit(outputs, node)
        let weights = try weights(node.inputs[1], node, count: w.elementCount, shape: "\(w.dims)")
        let bias = try optionalInput(node, 2).map { name throws(ModelError) in
            try self.weights(name, node, count: outputs, shape: "[\(outputs)]").map(Double.init)
        }
        if !tensors[x].isSequence {
            // A 1×1 convolution on a `[batch][channels][1]` vector (SE gates written as Conv1d) is a dense layer.
            guard extra == 1, kernel == 1 else {
                throw .unsupportedUsage(node: node.label, reason: "convolution over a per-window vector")
            }
            try appendDense(node, input: x, weights: weights, outputs: outputs, bias: bias, extraDims: 1)
            return
        }
        guard extra == 0 else {
            throw .unsupportedUsage(node: node.label, reason: "convolution over a 4-D activation")
        }
        let padLeft = try padding(node, kernel: kernel, pads: intsAttribute(node, "pads") ?? [])
        let output = newTensor(sequence: true, channels: outputs, producer: .convolution(convolutions.count))
        convolutions.append(
            ConvolutionProto(
                input: x, output: output, kernel: kernel, padLeft: padLeft, outputs: outputs, inputs: inputs,
                weights: weights, scale: Array(repeating: 1, count: outputs),
                shift: bias ?? Array(repeating: 0, count: outputs)))
        protos.append(.convolution(convolutions.count - 1))
        bind(node.outputs[0], to: output, extraDims: 0)
    }

    private mutating func batchNormalization(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 5)
        try requireOnlyFirstOutputUsed(node)
        guard intAttribute(node, "training_mode", default: 0) == 0 else {
            throw .unsupportedUsage(node: node.label, reason: "BatchNormalization in training mode")
        }
        let (x, extra) = try tensor(node.inputs[0], node)
        let channels = tensors[x].channels
        guard tensors[x].isSequence else {
            throw .unsupportedUsage(node: node.label, reason: "BatchNormalization of a per-window vector")
        }
        let shape = "[\(channels)]"
        let gamma = try weights(node.inputs[1], node, count: channels, shape: shape)
        let beta = try weights(node.inputs[2], node, count: channels, shape: shape)
        let mean = try weights(node.inputs[3], node, count: channels, shape: shape)
        let variance = try weights(node.inputs[4], node, count: channels, shape: shape)
        let epsilon = Double(node.attributes["epsilon"]?.float ?? 1e-5)
        var scale = [Double](repeating: 0, count: channels)
        var shift = [Double](repeating: 0, count: channels)
        for c in 0..<channels {
            let denominator = Double(variance[c]) + epsilon
            guard denominator > 0 else { throw .nonFiniteWeight(tensor: node.inputs[4], index: c) }
            scale[c] = Double(gamma[c]) / denominator.squareRoot()
            shift[c] = Double(beta[c]) - Double(mean[c]) * scale[c]
        }
        guard realUses(x) == 1 else {
            throw .unsupportedUsage(
                node: node.label, reason: "its input \(node.inputs[0]) is used elsewhere too, so it cannot be folded")
        }
        try fold(into: x, scale: scale, shift: shift, offset: 0, node)
        alias(node.outputs[0], to: x, extraDims: extra)
    }

    /// Folds `y = scale · x + shift` (per channel, from `offset`) into the convolutions that compute `tensor`.
    private mutating func fold(
        into tensor: Int, scale: [Double], shift: [Double], offset: Int, _ node: ONNXNode
    ) throws(ModelError) {
        switch tensors[tensor].producer {
        case .convolution(let index) where !convolutions[index].relu:
            for o in 0..<convolutions[index].outputs {
                convolutions[index].scale[o] *= scale[offset + o]
                convolutions[index].shift[o] = convolutions[index].shift[o] * scale[offset + o] + shift[offset + o]
            }
        case .concat(let parts):
            var partOffset = offset
            for part in parts {
                try fold(into: part, scale: scale, shift: shift, offset: partOffset, node)
                partOffset += tensors[part].channels
            }
        default:
            throw .unsupportedUsage(
                node: node.label, reason: "BatchNormalization can only be folded into a Conv (or a Concat of Convs)")
        }
    }

    /// Whether a ReLU can be fused into the layers that compute `tensor`.
    private func canFuseRelu(_ tensor: Int) -> Bool {
        switch tensors[tensor].producer {
        case .convolution(let index): !convolutions[index].relu
        case .concat(let parts): parts.allSatisfy(canFuseRelu)
        case .add(let index): if case .add(_, _, _, false) = protos[index] { true } else { false }
        default: false
        }
    }

    private mutating func fuseRelu(_ tensor: Int) {
        switch tensors[tensor].producer {
        case .convolution(let index):
            convolutions[index].relu = true
        case .concat(let parts):
            for part in parts { fuseRelu(part) }
        case .add(let index):
            if case .add(let a, let b, let output, _) = protos[index] {
                protos[index] = .add(a, b, output: output, relu: true)
            }
        default:
            break
        }
    }

    private mutating func activation(_ node: ONNXNode, _ function: Activation) throws(ModelError) {
        try requireInputs(node, 1)
        let (x, extra) = try tensor(node.inputs[0], node)
        let single = realUses(x) == 1
        if tensors[x].isSequence {
            if function == .relu, single, canFuseRelu(x) {
                fuseRelu(x)
                alias(node.outputs[0], to: x, extraDims: extra)
                return
            }
            let output = elementwiseOutput(of: x)
            protos.append(.sequenceActivation(input: x, output: output, function))
            bind(node.outputs[0], to: output, extraDims: extra)
            return
        }
        if single, case .dense(let index) = tensors[x].producer, denses[index].activation == .identity {
            denses[index].activation = function
            alias(node.outputs[0], to: x, extraDims: extra)
            return
        }
        let output = newTensor(sequence: false, channels: tensors[x].channels, producer: .other)
        protos.append(.vectorActivation(input: x, output: output, function))
        bind(node.outputs[0], to: output, extraDims: extra)
    }

    private mutating func maxPool(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 1)
        try requireOnlyFirstOutputUsed(node)
        let (x, extra) = try tensor(node.inputs[0], node)
        try requireUnitStridesAndDilations(node)
        let kernelShape = intsAttribute(node, "kernel_shape") ?? []
        var pads = intsAttribute(node, "pads") ?? []
        // The 2-D form `[batch][channels][1][time]` must pool over time only: kernel (1, k), no padding on the
        // unit axis.
        if extra == 1, kernelShape.count == 2, kernelShape[0] == 1,
            pads.isEmpty || (pads.count == 4 && pads[0] == 0 && pads[2] == 0)
        {
            pads = pads.isEmpty ? [] : [pads[1], pads[3]]
        } else if !(extra == 0 && kernelShape.count == 1) || !tensors[x].isSequence {
            throw .unsupportedUsage(node: node.label, reason: "only max pooling over time is supported")
        }
        guard let kernel = kernelShape.last, kernel >= 1 else {
            throw .unsupportedUsage(node: node.label, reason: "kernel_shape \(kernelShape)")
        }
        let padLeft = try padding(node, kernel: kernel, pads: pads)
        let output = newTensor(sequence: true, channels: tensors[x].channels, producer: .other)
        protos.append(.maxPool(input: x, output: output, kernel: kernel, padLeft: padLeft))
        bind(node.outputs[0], to: output, extraDims: extra)
    }

    private mutating func concat(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 1)
        var parts: [(id: Int, extraDims: Int)] = []
        for name in node.inputs { parts.append(try tensor(name, node)) }
        let extra = parts[0].extraDims
        let rank = 3 + extra
        let axis = try normalized([intAttribute(node, "axis", default: 1)], rank: rank, node)
        guard axis == [1], parts.allSatisfy({ tensors[$0.id].isSequence && $0.extraDims == extra }) else {
            throw .unsupportedUsage(node: node.label, reason: "only concatenation of sequences along channels")
        }
        let channels = parts.reduce(0) { $0 + tensors[$1.id].channels }
        let output = newTensor(sequence: true, channels: channels, producer: .other)
        var writers: [Int] = []
        var offset = 0
        for (part, _) in parts {
            let writesInPlace = tensors[part].storage == nil && realUses(part) == 1
            if writesInPlace, case .input = tensors[part].producer {
            } else if writesInPlace {
                tensors[part].storage = (output, offset)
                writers.append(part)
                offset += tensors[part].channels
                continue
            }
            let slice = newTensor(
                sequence: true, channels: tensors[part].channels, producer: .other, storage: (output, offset))
            protos.append(.copy(input: part, output: slice))
            writers.append(slice)
            offset += tensors[part].channels
        }
        tensors[output].producer = .concat(writers)
        bind(node.outputs[0], to: output, extraDims: extra)
    }

    private mutating func add(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 2)
        let lhs = try symbol(node.inputs[0], node)
        let rhs = try symbol(node.inputs[1], node)
        switch (lhs, rhs) {
        case (.tensor(let a, let extraA), .tensor(let b, let extraB))
        where tensors[a].isSequence && tensors[b].isSequence && extraA == extraB
            && tensors[a].channels == tensors[b].channels:
            let output = realUses(a) == 1 || realUses(b) != 1 ? elementwiseOutput(of: a) : elementwiseOutput(of: b)
            tensors[output].producer = .add(protos.count)
            protos.append(.add(a, b, output: output, relu: false))
            bind(node.outputs[0], to: output, extraDims: extraA)
        case (.tensor(let v, let extra), .constant(let bias)), (.constant(let bias), .tensor(let v, let extra)):
            // MatMul followed by Add: the bias of a dense layer.
            guard !tensors[v].isSequence, extra == 0, realUses(v) == 1, case .dense(let index) = tensors[v].producer,
                denses[index].bias == nil, denses[index].activation == .identity
            else {
                throw .unsupportedUsage(
                    node: node.label, reason: "adding a constant is only supported as a MatMul bias")
            }
            let count = denses[index].outputs
            let values = try weights(bias.name, node, count: count, shape: "[\(count)]")
            denses[index].bias = values.map(Double.init)
            alias(node.outputs[0], to: v, extraDims: extra)
        default:
            throw .unsupportedUsage(node: node.label, reason: "Add of operands with different shapes")
        }
    }

    private mutating func multiply(_ node: ONNXNode) throws(ModelError) {
        try requireInputs(node, 2)
        var (x, extraX) = try tensor(node.inputs[0], node)
        var (g, extraG) = try tensor(node.inputs[1], node)
        if !tensors[x].isSequence {
            swap(&x, &g)
            swap(&extraX, &extraG)
        }
        // Broadcasting `[batch][C][1]` against `[batch][C][time]` gates channels; any other pairing is not a gate.
        guard tensors[x].isSequence, !tensors[g].isSequence, extraG == 1 + extraX,
            tensors[g].channels == tensors[x].channels
        else {
            throw .unsupportedUsage(node: node.label, reason: "Mul is only supported as per-channel gating")
        }
        let output = elementwiseOutput(of: x)
        protos.append(.scaleChannels(GateProto(input: x, gates: g, output: output)))
        bind(node.outputs[0], to: output, extraDims: extraX)
    }
}
