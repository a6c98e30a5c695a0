import Foundation
import Testing

@testable import Model

/// Each optimised primitive against a direct loop written here. Tolerance: 1e-5 relative to the magnitude of the
/// sums involved (float32 products accumulated in a different order).
@Suite(.serialized) struct LayersTests {
    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// Direct "same" convolution, ONNX layout: x `[C][T]`, w `[O][C][k]`, zero padding `padLeft` before.
    static func directConvolution(
        x: [Float], w: [Float], channels: Int, outputs: Int, kernel: Int, padLeft: Int, time: Int
    ) -> [Float] {
        var y = [Float](repeating: 0, count: outputs * time)
        for o in 0..<outputs {
            for t in 0..<time {
                var sum: Float = 0
                for c in 0..<channels {
                    for k in 0..<kernel {
                        let s = t + k - padLeft
                        if s >= 0 && s < time { sum += w[(o * channels + c) * kernel + k] * x[c * time + s] }
                    }
                }
                y[o * time + t] = sum
            }
        }
        return y
    }

    /// The kernel's taps as one product per piece of at most `copies` taps, each reading the shifted copies at a
    /// column offset, over blocks of `block` samples that cut every window into several (the last one shorter).
    @Test(arguments: [(39, 19), (19, 9), (9, 4), (10, 4), (40, 19), (3, 1), (2, 0), (5, 4)], [1, 3, 5])
    func shiftedCopiesProductsMatchDirectConvolution(shape: (kernel: Int, padLeft: Int), copies: Int) throws {
        let (kernel, padLeft) = shape
        let (channels, outputs, time, windows, block) = (5, 3, 23, 3, 10)
        let x = Self.values(channels * windows * time, seed: 1)
        let w = Self.values(outputs * channels * kernel, seed: 2)
        let folded = ModelWeights.Convolution(
            onnxWeights: w, outputs: outputs, inputs: channels, kernel: kernel,
            scale: Array(repeating: 1, count: outputs), shift: Array(repeating: 0, count: outputs))
        let columns = windows * time
        var y = [Float](repeating: 0, count: outputs * columns)
        for window in 0..<windows {
            for start in stride(from: 0, to: time, by: block) {
                let count = min(block, time - start)
                let width = count + kernel - 1
                var shifted = [Float](repeating: .nan, count: copies * channels * width)
                x.withUnsafeBufferPointer { source in
                    Layers.shiftedCopies(
                        into: &shifted, width: width, from: source.baseAddress! + window * time, channels: channels,
                        rowStride: columns, time: time, start: start, copies: copies, spanLeft: padLeft)
                }
                for first in stride(from: 0, to: kernel, by: copies) {
                    let taps = min(copies, kernel - first)
                    // The piece's weights: [outputs][taps · channels], tap-major like the engine's blocks.
                    var piece: [Float] = []
                    for o in 0..<outputs {
                        let from = (o * kernel + first) * channels
                        piece += folded.weights[from..<(from + taps * channels)]
                    }
                    shifted.withUnsafeBufferPointer { rows in
                        y.withUnsafeMutableBufferPointer { out in
                            BLAS.multiply(
                                m: outputs, n: count, k: taps * channels, piece, lda: taps * channels,
                                rows.baseAddress! + first, ldb: width, into: out.baseAddress! + window * time + start,
                                ldc: columns, accumulate: true)
                        }
                    }
                }
            }
        }
        for window in 0..<windows {
            let xw = Self.window(x, rows: channels, columns: columns, start: window * time, time: time)
            let expected = Self.directConvolution(
                x: xw, w: w, channels: channels, outputs: outputs, kernel: kernel, padLeft: padLeft, time: time)
            let actual = Self.window(y, rows: outputs, columns: columns, start: window * time, time: time)
            #expect(Self.maxDifference(expected, actual) < 1e-5)
        }
    }

    @Test func shiftedCopiesZeroEverySampleOutsideTheWindow() {
        // One channel, time 4 = [1, 2, 3, 4]; a block of 2 samples from t = 1, two copies, 2 samples of left span.
        let x: [Float] = [1, 2, 3, 4]
        var rows = [Float](repeating: .nan, count: 2 * 5)
        Layers.shiftedCopies(
            into: &rows, width: 5, from: x, channels: 1, rowStride: 4, time: 4, start: 1, copies: 2, spanLeft: 2)
        // Copy p, column u: x[1 + u + p - 2].
        #expect(rows == [0, 1, 2, 3, 4, 1, 2, 3, 4, 0])
    }

    /// One window `[rows][time]` cut out of an engine buffer `[rows][columns]`.
    static func window(_ buffer: [Float], rows: Int, columns: Int, start: Int, time: Int) -> [Float] {
        var result: [Float] = []
        for r in 0..<rows {
            let first = r * columns + start
            result.append(contentsOf: buffer[first..<(first + time)])
        }
        return result
    }

    @Test(arguments: [(3, 1), (3, 0), (3, 2), (4, 1), (1, 0)])
    func maxPoolMatchesDirectLoop(kernel: Int, padLeft: Int) {
        let (channels, windows, time) = (3, 2, 11)
        let x = Self.values(channels * windows * time, seed: 3)
        var y = [Float](repeating: 0, count: x.count)
        Layers.maxPool1d(
            into: &y, from: x, channels: channels, yStride: windows * time, xStride: windows * time,
            windows: windows, time: time, kernel: kernel, padLeft: padLeft)
        for c in 0..<channels {
            for w in 0..<windows {
                for t in 0..<time {
                    let base = c * windows * time + w * time
                    let taps = (0..<kernel).map { t + $0 - padLeft }.filter { $0 >= 0 && $0 < time }
                    #expect(y[base + t] == taps.map { x[base + $0] }.max())
                }
            }
        }
    }

    @Test(arguments: [1, 7, 8, 250, 1001], [false, true])
    func timeMeanMatchesDirectSum(time: Int, rectified: Bool) {
        let (channels, windows) = (4, 3)
        let x = Self.values(channels * windows * time, seed: 4)
        var y = [Float](repeating: 0, count: windows * channels)
        Layers.timeMean(
            into: &y, from: x, channels: channels, xStride: windows * time, windows: windows, time: time,
            rectified: rectified)
        for c in 0..<channels {
            for w in 0..<windows {
                let row = x[(c * windows * time + w * time)..<(c * windows * time + w * time + time)]
                let mean = Float(row.reduce(0.0) { $0 + Double(rectified ? max($1, 0) : $1) } / Double(time))
                #expect(abs(y[w * channels + c] - mean) < 1e-6)
            }
        }
    }

    /// Every combination of the gate's fused steps against direct loops, with rows of 19 (two vectors and a
    /// scalar tail), the output written over the input as the engine may.
    @Test(arguments: [false, true], [(false, false), (false, true), (true, false), (true, true)])
    func gateMatchesScaleResidualReluAndPoolingAsDirectLoops(rectified: Bool, fused: (residual: Bool, pool: Bool)) {
        let (withResidual, pooling) = fused
        let (channels, windows, time) = (3, 2, 19)
        let count = channels * windows * time
        let x = Self.values(count, seed: 5)
        let gates = Self.values(windows * channels, seed: 6).map { abs($0) }
        let residual = Self.values(count, seed: 7)
        var y = x
        var pooled = [Float](repeating: .nan, count: count)
        y.withUnsafeMutableBufferPointer { inPlace in
            pooled.withUnsafeMutableBufferPointer { pool in
                guard let out = inPlace.baseAddress else { return }
                Layers.gate(
                    into: out, from: out, gates: gates, residual: withResidual ? residual : nil,
                    pooled: pooling ? pool.baseAddress : nil, channels: channels, rowStride: windows * time,
                    windows: windows, time: time, rectified: rectified, relu: withResidual, poolKernel: 3,
                    poolPadLeft: 1)
            }
        }
        var expected = x
        for c in 0..<channels {
            for w in 0..<windows {
                for t in 0..<time {
                    let i = c * windows * time + w * time + t
                    var v = (rectified ? max(x[i], 0) : x[i]) * gates[w * channels + c]
                    if withResidual { v = max(v + residual[i], 0) }
                    expected[i] = v
                }
            }
        }
        #expect(y == expected)
        guard pooling else { return }
        for c in 0..<channels {
            for w in 0..<windows {
                let base = c * windows * time + w * time
                for t in 0..<time {
                    let taps = (t - 1...t + 1).filter { $0 >= 0 && $0 < time }
                    #expect(pooled[base + t] == taps.map { expected[base + $0] }.max())
                }
            }
        }
    }

    @Test(arguments: [Activation.identity, .relu, .sigmoid])
    func denseMatchesDirectProduct(_ function: Activation) {
        let (windows, inputs, outputs) = (3, 7, 5)
        let x = Self.values(windows * inputs, seed: 7)
        let w = Self.values(outputs * inputs, seed: 8)
        let b = Self.values(outputs, seed: 9)
        var y = [Float](repeating: 0, count: windows * outputs)
        Layers.dense(
            into: &y, from: x, windows: windows, inputs: inputs, outputs: outputs, weights: w, bias: b, function)
        for n in 0..<windows {
            for o in 0..<outputs {
                var z = b[o]
                for i in 0..<inputs { z += x[n * inputs + i] * w[o * inputs + i] }
                let expected: Float =
                    switch function {
                    case .identity: z
                    case .relu: max(z, 0)
                    case .sigmoid: 1 / (1 + exp(-z))
                    }
                #expect(abs(y[n * outputs + o] - expected) < 1e-5)
            }
        }
    }

    /// Rows of 19: two whole vectors of 8 and a scalar tail; in place as the engine runs it.
    @Test(arguments: [false, true])
    func addMatchesDirectLoopInPlace(relu: Bool) {
        let a = Self.values(3 * 19, seed: 10)
        let b = Self.values(3 * 19, seed: 11)
        var y = a
        y.withUnsafeMutableBufferPointer { inPlace in
            guard let pointer = inPlace.baseAddress else { return }
            Layers.add(
                into: pointer, pointer, b, rows: 3, columns: 19, yStride: 19, aStride: 19, bStride: 19, relu: relu)
        }
        #expect(y == zip(a, b).map { relu ? max($0 + $1, 0) : $0 + $1 })
    }

    @Test func addWithReluAndBiasFillMatchDirectLoops() {
        let a = Self.values(12, seed: 10)
        let b = Self.values(12, seed: 11)
        var y = [Float](repeating: 0, count: 12)
        Layers.add(into: &y, a, b, rows: 3, columns: 4, yStride: 4, aStride: 4, bStride: 4, relu: true)
        #expect(y == zip(a, b).map { max($0 + $1, 0) })
        var z = a
        let bias: [Float] = [0.5, -0.25, 2]
        Layers.fill(&z, rowStride: 4, rows: 3, columns: 3, with: bias)
        #expect(z == a.enumerated().map { $0 % 4 == 3 ? $1 : bias[$0 / 4] })
        Layers.fill(&z, rowStride: 4, rows: 3, columns: 4, with: nil)
        #expect(z.allSatisfy { $0 == 0 })
    }

    /// Weights stored `[k][m]`, as the engine keeps them, against the direct sum.
    @Test func multiplyWithTransposedWeightsMatchesDirectProduct() {
        let (m, n, k) = (5, 7, 3)
        let a = Self.values(k * m, seed: 12)
        let b = Self.values(k * n, seed: 13)
        var c = [Float](repeating: 1, count: m * n)
        BLAS.multiply(m: m, n: n, k: k, a, lda: m, transposingA: true, b, ldb: n, into: &c, ldc: n, accumulate: true)
        for i in 0..<m {
            for j in 0..<n {
                let expected = 1 + (0..<k).reduce(Float(0)) { $0 + a[$1 * m + i] * b[$1 * n + j] }
                #expect(abs(c[i * n + j] - expected) < 1e-5)
            }
        }
    }

    @Test func sigmoidStaysFiniteAtTheExtremes() {
        #expect(Layers.sigmoid(-1000) == 0)
        #expect(Layers.sigmoid(1000) == 1)
        #expect(abs(Layers.sigmoid(0) - 0.5) < 1e-7)
    }

    @Test func peakMeasurementReportsAPositiveRate() {
        #expect(BLAS.peakGigaflops(size: 64, seconds: 0.05) > 0)
    }
}

@Suite struct GateExponentialTests {
    /// The vectorised exponential against `expf` over the range the gates see, and the gate against the scalar
    /// sigmoid, including a tail shorter than a vector.
    @Test func matchesTheScalarFunctions() {
        var worst: Float = 0
        for start in stride(from: Float(-30), to: 30, by: 0.37) {
            let x = SIMD8<Float>((0..<8).map { start + Float($0) * 0.043 })
            let e = Layers.exponential(x)
            for lane in 0..<8 { worst = max(worst, abs(e[lane] - expf(x[lane])) / expf(x[lane])) }
        }
        #expect(worst < 3e-7, "relative error \(worst)")
        #expect(
            Layers.exponential(SIMD8(repeating: -200))[0] >= 0 && Layers.exponential(SIMD8(repeating: 200))[0].isFinite)
        let gates = (0..<21).map { Float($0) * 1.7 - 17 }
        var values = [Float](repeating: 2, count: 21)
        Layers.multiplyBySigmoid(&values, gates: gates, count: 21)
        for (value, gate) in zip(values, gates) { #expect(abs(value - 2 * Layers.sigmoid(gate)) < 1e-6) }
    }
}
