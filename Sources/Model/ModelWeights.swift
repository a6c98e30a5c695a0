/// The numbers of a compiled model: convolution and dense weights with BatchNorm already folded in.
///
/// Immutable and `Sendable`: one instance is shared by every inference worker.
public struct ModelWeights: Sendable {
    /// A convolution's folded weights.
    struct Convolution: Sendable {
        let outputs: Int
        let inputs: Int
        let kernel: Int
        /// `[outputs][kernel][inputs]` row-major: tap-major, to match the rows of the shifted input copies
        /// (`tap · inputs + channel`).
        let weights: [Float]
        /// `[outputs]`: the convolution's bias, with BatchNorm's shift folded in (zeros if it had neither).
        let bias: [Float]

        /// Folds `y = scale · conv(x) + shift` per output channel and reorders ONNX's `[out][in][k]` to tap-major.
        ///
        /// Folding is done in double precision so that it adds no rounding beyond the final conversion.
        init(onnxWeights: [Float], outputs: Int, inputs: Int, kernel: Int, scale: [Double], shift: [Double]) {
            precondition(onnxWeights.count == outputs * inputs * kernel && scale.count == outputs)
            self.outputs = outputs
            self.inputs = inputs
            self.kernel = kernel
            var folded = [Float](repeating: 0, count: onnxWeights.count)
            for o in 0..<outputs {
                for i in 0..<inputs {
                    for k in 0..<kernel {
                        let w = Double(onnxWeights[(o * inputs + i) * kernel + k]) * scale[o]
                        folded[(o * kernel + k) * inputs + i] = Float(w)
                    }
                }
            }
            self.weights = folded
            self.bias = shift.map { Float($0) }
        }
    }

    /// A dense (fully connected) layer's weights.
    struct Dense: Sendable {
        let outputs: Int
        let inputs: Int
        /// `[outputs][inputs]` row-major.
        let weights: [Float]
        /// `[outputs]`.
        let bias: [Float]
    }

    let convolutions: [Convolution]
    let dense: [Dense]
    /// Stacked weights of each ``ConvolutionBlock``, transposed: `[taps · inputs][outputs]` row-major, tap-major
    /// rows. OpenBLAS packs an operand stored this way with contiguous copies; `[outputs][taps · inputs]` would be
    /// gathered one value at a time (measured: 1% faster products).
    let blocks: [[Float]]

    /// `matrix` `[rows][columns]` row-major, returned `[columns][rows]`.
    static func transposed(_ matrix: [Float], rows: Int) -> [Float] {
        let columns = rows > 0 ? matrix.count / rows : 0
        var result = [Float](repeating: 0, count: matrix.count)
        for r in 0..<rows {
            for c in 0..<columns { result[c * rows + r] = matrix[r * columns + c] }
        }
        return result
    }

    /// The number of parameters after folding (block weights rearrange convolution weights and are not counted).
    public var parameterCount: Int {
        convolutions.reduce(0) { $0 + $1.weights.count + $1.bias.count }
            + dense.reduce(0) { $0 + $1.weights.count + $1.bias.count }
    }
}
