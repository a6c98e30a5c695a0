/// Rewrites of the layer list that compute the same values with fewer passes over the activations.
extension PlanCompiler {
    /// Moves a ReLU that convolutions apply to a tensor read only by a squeeze-and-excitation block (its mean and
    /// its gating) into those two readers, which then rectify as they read: the same values without a pass of
    /// their own over the tensor.
    mutating func deferSqueezeExciteReLUs() {
        func rectifiedConvolutions(_ tensor: Int) -> [Int]? {
            switch tensors[tensor].producer {
            case .convolution(let index): return convolutions[index].relu ? [index] : nil
            case .concat(let parts):
                var all: [Int] = []
                for part in parts {
                    guard let found = rectifiedConvolutions(part) else { return nil }
                    all += found
                }
                return all
            default: return nil
            }
        }
        for (meanIndex, proto) in protos.enumerated() {
            guard case .timeMean(let input, let output, false) = proto, realUses(input) == 2,
                let scaleIndex = protos.firstIndex(where: {
                    if case .scaleChannels(let gate) = $0 { gate.input == input && !gate.rectified } else { false }
                }),
                case .scaleChannels(var gate) = protos[scaleIndex],
                let producers = rectifiedConvolutions(input)
            else { continue }
            for index in producers { convolutions[index].relu = false }
            protos[meanIndex] = .timeMean(input: input, output: output, rectified: true)
            gate.rectified = true
            protos[scaleIndex] = .scaleChannels(gate)
        }
    }

    /// Fuses into each gating the residual sum that is the only reader of its result, then the max pooling of
    /// the (summed) result: one pass over the rows instead of three.
    ///
    /// The gating moves down to the sum, which is safe because the sum is the only reader of the gated values and
    /// nothing writes the gating's input or gates in between (a layer writes in place only over a tensor it alone
    /// reads). The pooling moves up to the gating: it reads nothing else, and its output is a new tensor.
    mutating func fuseIntoGates() {
        var removed = Set<Int>()
        for (addIndex, proto) in protos.enumerated() {
            guard case .add(let a, let b, let output, let relu) = proto else { continue }
            for (gated, residual) in [(a, b), (b, a)] where realUses(gated) == 1 {
                guard let gateIndex = gateIndex(writing: gated), !removed.contains(gateIndex),
                    case .scaleChannels(var gate) = protos[gateIndex], gate.residual == nil, !gate.relu
                else { continue }
                gate.output = output
                gate.residual = residual
                gate.relu = relu
                protos[addIndex] = .scaleChannels(gate)
                removed.insert(gateIndex)
                break
            }
        }
        for (poolIndex, proto) in protos.enumerated() {
            guard case .maxPool(let input, let output, let kernel, let padLeft) = proto,
                let gateIndex = gateIndex(writing: input), !removed.contains(gateIndex),
                case .scaleChannels(var gate) = protos[gateIndex], gate.pool == nil
            else { continue }
            gate.pool = (output, kernel, padLeft)
            protos[gateIndex] = .scaleChannels(gate)
            removed.insert(poolIndex)
        }
        protos = protos.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// The index of the gating proto whose output is `tensor`.
    private func gateIndex(writing tensor: Int) -> Int? {
        protos.firstIndex {
            if case .scaleChannels(let gate) = $0 { gate.output == tensor } else { false }
        }
    }
}
