/// The last stage: group convolutions that share an input, place every tensor in a workspace slot, emit layers.
extension PlanCompiler {
    /// A layer in final order, before tensors are given slots.
    private enum Step {
        case group(input: Int, convolutions: [Int])
        case proto(Proto)
    }

    mutating func finish() throws(ModelError) -> (ModelPlan, ModelWeights) {
        var (output, outputCount) = try resolveOutput()
        let droppedSigmoid = dropFinalSigmoid(&output)
        try checkDeclaredShapes()
        deferSqueezeExciteReLUs()
        fuseIntoGates()
        let steps = groupedSteps()
        let slots = assignSequenceSlots(steps)
        var vectorSlot: [Int: Int] = [:]
        var vectorWidth = 1
        for (id, t) in tensors.enumerated() where !t.isSequence {
            vectorSlot[id] = vectorSlot.count
            vectorWidth = max(vectorWidth, t.channels)
        }
        func seq(_ id: Int) -> SequenceRef {
            let (root, offset) = self.root(id)
            return SequenceRef(slot: slots.slot[root] ?? 0, channelOffset: offset, channels: tensors[id].channels)
        }
        func vec(_ id: Int) -> VectorRef { VectorRef(slot: vectorSlot[id] ?? 0, channels: tensors[id].channels) }

        let convolutionWeights = convolutions.map {
            ModelWeights.Convolution(
                onnxWeights: $0.weights, outputs: $0.outputs, inputs: $0.inputs, kernel: $0.kernel,
                scale: $0.scale, shift: $0.shift)
        }
        var blockWeights: [[Float]] = []
        var layers: [FusedLayer] = []
        for step in steps {
            switch step {
            case .group(let input, let members):
                let specs = members.map { index in
                    let c = convolutions[index]
                    return ConvolutionSpec(
                        output: seq(c.output), kernel: c.kernel, padLeft: c.padLeft, relu: c.relu,
                        hasBias: convolutionWeights[index].bias.contains { $0 != 0 }, weights: index)
                }
                let wide = specs.filter { $0.kernel > 1 }
                let spanLeft = wide.map(\.padLeft).max() ?? 0
                let spanRight = wide.map { $0.kernel - 1 - $0.padLeft }.max() ?? 0
                let taps = wide.isEmpty ? 0 : spanLeft + spanRight + 1
                let blocks = Self.blocks(
                    wide, spanLeft: spanLeft, taps: taps, inputs: tensors[input].channels,
                    weights: convolutionWeights, into: &blockWeights)
                layers.append(
                    .convolutions(
                        ConvolutionGroup(
                            input: seq(input), convolutions: specs, blocks: blocks,
                            shiftCopies: blocks.map(\.taps).max() ?? 0, spanLeft: spanLeft, spanTaps: taps)))
            case .proto(.convolution):
                break
            case .proto(.maxPool(let input, let output, let kernel, let padLeft)):
                layers.append(.maxPool(input: seq(input), output: seq(output), kernel: kernel, padLeft: padLeft))
            case .proto(.add(let a, let b, let output, let relu)):
                layers.append(.add(seq(a), seq(b), output: seq(output), relu: relu))
            case .proto(.sequenceActivation(let input, let output, let function)):
                layers.append(.sequenceActivation(input: seq(input), output: seq(output), function))
            case .proto(.copy(let input, let output)):
                layers.append(.copy(input: seq(input), output: seq(output)))
            case .proto(.timeMean(let input, let output, let rectified)):
                layers.append(.timeMean(input: seq(input), output: vec(output), rectified: rectified))
            case .proto(.dense(let index, let input, let output)):
                layers.append(.dense(input: vec(input), output: vec(output), weights: index, denses[index].activation))
            case .proto(.vectorActivation(let input, let output, let function)):
                layers.append(.vectorActivation(input: vec(input), output: vec(output), function))
            case .proto(.scaleChannels(let gate)):
                layers.append(
                    .gate(
                        ChannelGate(
                            input: seq(gate.input), gates: vec(gate.gates), output: seq(gate.output),
                            rectified: gate.rectified, residual: gate.residual.map(seq), relu: gate.relu,
                            pool: gate.pool.map {
                                ChannelGate.Pool(output: seq($0.output), kernel: $0.kernel, padLeft: $0.padLeft)
                            })))
            }
        }
        let plan = ModelPlan(
            inputChannels: inputChannels, outputCount: outputCount, fixedBatch: fixedBatch, fixedTime: fixedTime,
            layers: layers, input: seq(inputTensor), output: vec(output), droppedFinalSigmoid: droppedSigmoid,
            sequenceSlots: (slots.count, slots.channels), vectorSlots: (max(1, vectorSlot.count), vectorWidth))
        let weights = ModelWeights(
            convolutions: convolutionWeights,
            dense: denses.map {
                ModelWeights.Dense(
                    outputs: $0.outputs, inputs: $0.inputs, weights: $0.weights,
                    bias: ($0.bias ?? Array(repeating: 0, count: $0.outputs)).map { Float($0) })
            },
            blocks: blockWeights)
        return (plan, weights)
    }

    /// The most taps one product takes, and so the number of shifted input copies a group needs.
    ///
    /// Fewer copies mean less copying but more, shorter products. Measured on the 2-core EPYC machines (the
    /// paper's k = 39/19/9 convolutions of one module, 16 windows of 250, best of interleaved repetitions, relative
    /// to one 39-tap im2col and 3 products per window): 10 → 0.93, 5 → 0.90, 4 → 0.95, 3 → 0.91, 2 → 0.93.
    static let maxShiftCopies = 5

    /// The products computing the convolutions `wide`: the taps of their union window grouped by which kernels
    /// cover them, each group split into runs of adjacent taps, each run into near-equal pieces of at most
    /// ``maxShiftCopies`` taps; one product per piece.
    ///
    /// For nested "same" windows (39/19/9) the groups are the centre 9 taps (all three kernels), the two runs of
    /// 5 only 39 and 19 cover, and the two runs of 10 only 39 covers. Kernels of a group are stacked into one
    /// product when their outputs are adjacent channel ranges of one slot, in channel order; taller products go
    /// first.
    private static func blocks(
        _ wide: [ConvolutionSpec], spanLeft: Int, taps: Int, inputs: Int,
        weights: [ModelWeights.Convolution], into blockWeights: inout [[Float]]
    ) -> [ConvolutionBlock] {
        let ordered = wide.sorted {
            ($0.output.slot, $0.output.channelOffset) < ($1.output.slot, $1.output.channelOffset)
        }
        func covers(_ spec: ConvolutionSpec, _ tap: Int) -> Bool {
            let first = spanLeft - spec.padLeft
            return tap >= first && tap < first + spec.kernel
        }
        var groups: [(members: [Int], taps: [Int])] = []
        for tap in 0..<taps {
            let members = ordered.indices.filter { covers(ordered[$0], tap) }
            if let index = groups.firstIndex(where: { $0.members == members }) {
                groups[index].taps.append(tap)
            } else {
                groups.append((members, [tap]))
            }
        }
        groups.sort { $0.members.count > $1.members.count }
        var blocks: [ConvolutionBlock] = []
        for group in groups where !group.members.isEmpty {
            let specs = group.members.map { ordered[$0] }
            let adjacent = zip(specs, specs.dropFirst()).allSatisfy { a, b in
                a.output.slot == b.output.slot && a.output.channelOffset + a.output.channels == b.output.channelOffset
            }
            for piece in pieces(of: group.taps) {
                for stack in adjacent ? [group.members] : group.members.map({ [$0] }) {
                    var matrix: [Float] = []
                    var output = ordered[stack[0]].output
                    output.channels = 0
                    for member in stack {
                        let spec = ordered[member]
                        let w = weights[spec.weights]
                        for o in 0..<w.outputs {
                            let start = (o * w.kernel + piece.lowerBound - (spanLeft - spec.padLeft)) * inputs
                            matrix.append(contentsOf: w.weights[start..<(start + piece.count * inputs)])
                        }
                        output.channels += w.outputs
                    }
                    blocks.append(
                        ConvolutionBlock(
                            firstTap: piece.lowerBound, taps: piece.count, output: output,
                            weights: blockWeights.count, spanLeft: spanLeft))
                    blockWeights.append(ModelWeights.transposed(matrix, rows: output.channels))
                }
            }
        }
        return blocks
    }

    /// Ascending `taps` cut into runs of adjacent taps, each run into near-equal pieces of at most
    /// ``maxShiftCopies``.
    private static func pieces(of taps: [Int]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        for tap in taps {
            if let last = runs.last, last.upperBound == tap {
                runs[runs.count - 1] = last.lowerBound..<(tap + 1)
            } else {
                runs.append(tap..<(tap + 1))
            }
        }
        var pieces: [Range<Int>] = []
        for run in runs {
            let count = (run.count + maxShiftCopies - 1) / maxShiftCopies
            var start = run.lowerBound
            for i in 0..<count {
                // The first `run.count % count` pieces take one tap more than the rest.
                let length = run.count / count + (i < run.count % count ? 1 : 0)
                pieces.append(start..<(start + length))
                start += length
            }
        }
        return pieces
    }

    private func resolveOutput() throws(ModelError) -> (tensor: Int, count: Int) {
        guard graph.outputs.count == 1, let name = graph.outputs.first?.name else {
            throw .badSignature(reason: "expected one output [batch, classes], found \(graph.outputs.count)")
        }
        guard case .tensor(let id, _) = symbols[name], !tensors[id].isSequence else {
            throw .badSignature(reason: "output \(name) is not a per-window vector [batch, classes]")
        }
        return (id, tensors[id].channels)
    }

    /// Makes the plan end before a final Sigmoid, if the graph has one, so that it yields logits.
    ///
    /// Graphs that output probabilities (Keras exports, PyTorch modules ending in `torch.sigmoid`) and graphs that
    /// output logits must give callers the same thing: they apply the one sigmoid themselves. The Sigmoid is either
    /// fused into the last dense layer or a layer of its own.
    ///
    /// - Parameter output: the output tensor; becomes the Sigmoid's input when one is dropped.
    /// - Returns: whether a Sigmoid was dropped.
    private mutating func dropFinalSigmoid(_ output: inout Int) -> Bool {
        if case .dense(let index) = tensors[output].producer, denses[index].activation == .sigmoid {
            denses[index].activation = .identity
            return true
        }
        let last = protos.lastIndex {
            if case .vectorActivation(_, output, .sigmoid) = $0 { return true }
            return false
        }
        guard let last, case .vectorActivation(let input, _, _) = protos[last] else { return false }
        protos.remove(at: last)
        output = input
        return true
    }

    /// Compares every declared shape (`value_info`, outputs) with what the compiler derived.
    private func checkDeclaredShapes() throws(ModelError) {
        for info in graph.valueInfo + graph.outputs {
            guard let dims = info.dims, case .tensor(let id, let extra) = symbols[info.name] else { continue }
            let t = tensors[id]
            let rank = (t.isSequence ? 3 : 2) + extra
            let expected =
                t.isSequence
                ? "[batch, \(t.channels), …, time]"
                : "[batch, \(t.channels)\(String(repeating: ", 1", count: extra))]"
            guard dims.count == rank else {
                throw .shapeMismatch(tensor: info.name, expected: expected, found: "rank \(dims.count)")
            }
            if case .fixed(let channels) = dims[1], channels != t.channels {
                throw .shapeMismatch(tensor: info.name, expected: expected, found: "\(channels) channels")
            }
        }
    }

    /// The root tensor whose storage `id` lives in, and the channel offset inside it.
    func root(_ id: Int) -> (Int, Int) {
        var current = id
        var offset = 0
        while let (parent, channelOffset) = tensors[current].storage {
            offset += channelOffset
            current = parent
        }
        return (current, offset)
    }

    /// Protos in order, with every convolution moved into a group with the other convolutions of its input.
    ///
    /// Moving a convolution up to the first reader of its input is safe: it depends on nothing but that input,
    /// which is not overwritten while it has other readers (in-place layers require a single reader).
    private func groupedSteps() -> [Step] {
        var steps: [Step] = []
        var groupIndex: [Int: Int] = [:]
        for proto in protos {
            guard case .convolution(let index) = proto else {
                steps.append(.proto(proto))
                continue
            }
            let input = convolutions[index].input
            if let position = groupIndex[input], case .group(let x, let members) = steps[position] {
                steps[position] = .group(input: x, convolutions: members + [index])
            } else {
                groupIndex[input] = steps.count
                steps.append(.group(input: input, convolutions: [index]))
            }
        }
        return steps
    }

    private func accesses(_ step: Step) -> [Int] {
        switch step {
        case .group(let input, let members): [input] + members.map { convolutions[$0].output }
        case .proto(.convolution(let index)): [convolutions[index].input, convolutions[index].output]
        case .proto(.maxPool(let input, let output, _, _)): [input, output]
        case .proto(.add(let a, let b, let output, _)): [a, b, output]
        case .proto(.sequenceActivation(let input, let output, _)): [input, output]
        case .proto(.copy(let input, let output)): [input, output]
        case .proto(.timeMean(let input, _, _)): [input]
        case .proto(.dense), .proto(.vectorActivation): []
        case .proto(.scaleChannels(let gate)):
            [gate.input, gate.output] + (gate.residual.map { [$0] } ?? []) + (gate.pool.map { [$0.output] } ?? [])
        }
    }

    /// Linear-scan placement of sequence roots into slots, reusing a slot once its last reader has run.
    private func assignSequenceSlots(_ steps: [Step]) -> (slot: [Int: Int], count: Int, channels: Int) {
        var first: [Int: Int] = [:]
        var last: [Int: Int] = [:]
        let (inputRoot, _) = root(inputTensor)
        first[inputRoot] = -1
        last[inputRoot] = -1
        for (index, step) in steps.enumerated() {
            for id in accesses(step) {
                let (r, _) = root(id)
                first[r] = min(first[r] ?? index, index)
                last[r] = max(last[r] ?? index, index)
            }
        }
        var slot: [Int: Int] = [:]
        var free: [Int] = []
        var count = 0
        var channels = 1
        let starting = Dictionary(grouping: first.keys, by: { first[$0] ?? 0 })
        let ending = Dictionary(grouping: last.keys, by: { last[$0] ?? 0 })
        for index in -1..<steps.count {
            for r in (starting[index] ?? []).sorted() {
                if let reused = free.popLast() {
                    slot[r] = reused
                } else {
                    slot[r] = count
                    count += 1
                }
                channels = max(channels, tensors[r].channels)
            }
            for r in (ending[index] ?? []).sorted() { free.append(slot[r] ?? 0) }
        }
        return (slot, max(1, count), channels)
    }
}
