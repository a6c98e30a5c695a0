import Glibc

/// The primitives of the forward pass, one function per operation, on raw pointers.
///
/// Sequences are channel-major `[channels][windows · time]`: row `c` holds channel `c` of every window of the pass,
/// window after window, so that a convolution over all windows is one matrix product. Vectors are
/// `[windows][channels]`.
/// Callers check sizes once; the loops here only `assert`.
enum Layers {
    /// Shifted copies of a block of one window's samples: row `p · channels + c`, column `u` holds
    /// `x[c][start + u + p − spanLeft]`, or 0 where that falls outside the window (zero padding).
    ///
    /// A convolution over taps `[a, a + k)` of the block is then one product reading the first `k · channels`
    /// rows from column `a` on (see ``ConvolutionGroup``).
    ///
    /// - Parameters:
    ///   - rows: destination `[copies · channels][width]`.
    ///   - window: the window's first sample of channel 0; channel `c` starts `c · rowStride` later.
    ///   - start: the block's first output sample in the window.
    static func shiftedCopies(
        into rows: UnsafeMutablePointer<Float>, width: Int, from window: UnsafePointer<Float>, channels: Int,
        rowStride: Int, time: Int, start: Int, copies: Int, spanLeft: Int
    ) {
        assert(time > 0 && width > 0)
        for p in 0..<copies {
            // Column u reads sample u + shift; the samples of the window are those with 0 ≤ u + shift < time.
            let shift = start + p - spanLeft
            let validStart = min(max(-shift, 0), width)
            let validEnd = max(min(time - shift, width), validStart)
            for c in 0..<channels {
                let out = rows + (p * channels + c) * width
                let from = window + c * rowStride + shift
                // Plain loops rather than memcpy calls: rows are short (a block), so the call would cost as much
                // as the copy.
                for u in 0..<validStart { out[u] = 0 }
                for u in validStart..<validEnd { out[u] = from[u] }
                for u in validEnd..<width { out[u] = 0 }
            }
        }
    }

    /// `y[o][j] = bias[o]` over a block of columns, or 0 where `bias` is nil.
    static func fill(
        _ y: UnsafeMutablePointer<Float>, rowStride: Int, rows: Int, columns: Int, with bias: UnsafePointer<Float>?
    ) {
        for o in 0..<rows { (y + o * rowStride).update(repeating: bias?[o] ?? 0, count: columns) }
    }

    /// Stride-1 max pooling over time that keeps the length; padded positions never win.
    static func maxPool1d(
        into y: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, channels: Int, yStride: Int,
        xStride: Int, windows: Int, time: Int, kernel: Int, padLeft: Int
    ) {
        for c in 0..<channels {
            for w in 0..<windows {
                maxPoolRow(
                    into: y + c * yStride + w * time, from: x + c * xStride + w * time, time: time, kernel: kernel,
                    padLeft: padLeft)
            }
        }
    }

    /// ``maxPool1d(into:from:channels:yStride:xStride:windows:time:kernel:padLeft:)`` of one channel of one window.
    ///
    /// Written as `kernel` passes of elementwise maxima over shifted rows, which vectorise; only the few edge
    /// samples whose window reaches into the padding take the scalar path.
    static func maxPoolRow(
        into out: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, time: Int, kernel: Int, padLeft: Int
    ) {
        let padRight = kernel - 1 - padLeft
        let interiorStart = min(padLeft, time)
        let interiorEnd = max(interiorStart, time - padRight)
        if interiorEnd > interiorStart {
            let count = interiorEnd - interiorStart
            let first = source + interiorStart - padLeft
            let target = out + interiorStart
            if kernel == 3 {
                // The inception modules' pool: one pass instead of three.
                for t in 0..<count { target[t] = max(max(first[t], first[t + 1]), first[t + 2]) }
            } else {
                target.update(from: first, count: count)
                for s in 1..<max(kernel, 1) {
                    let shifted = first + s
                    for t in 0..<count { target[t] = max(target[t], shifted[t]) }
                }
            }
        }
        for t in 0..<interiorStart {
            out[t] = edgeMaximum(source, t: t, time: time, kernel: kernel, padLeft: padLeft)
        }
        for t in interiorEnd..<time {
            out[t] = edgeMaximum(source, t: t, time: time, kernel: kernel, padLeft: padLeft)
        }
    }

    /// The maximum of the in-window samples of a pooling window that reaches into the padding.
    private static func edgeMaximum(
        _ source: UnsafePointer<Float>, t: Int, time: Int, kernel: Int, padLeft: Int
    ) -> Float {
        let lo = max(0, t - padLeft)
        let hi = min(time - 1, t - padLeft + kernel - 1)
        var best = -Float.infinity
        if lo <= hi {
            for s in lo...hi { best = max(best, source[s]) }
        }
        return best
    }

    /// `y = a + b` elementwise over `rows` channel rows, then ReLU if asked; `y` may alias `a` or `b`.
    ///
    /// Written with explicit vectors: the compiler keeps the loop scalar because `y` may alias the operands, which
    /// is safe here since each vector is loaded before it is stored.
    static func add(
        into y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        rows: Int, columns: Int, yStride: Int, aStride: Int, bStride: Int, relu: Bool
    ) {
        let lanes = columns / 8 * 8
        for r in 0..<rows {
            let out = y + r * yStride
            let lhs = a + r * aStride
            let rhs = b + r * bStride
            var j = 0
            while j < lanes {
                var sum =
                    UnsafeRawPointer(lhs + j).loadUnaligned(as: SIMD8<Float>.self)
                    + UnsafeRawPointer(rhs + j).loadUnaligned(as: SIMD8<Float>.self)
                // Not `pointwiseMax`: the compiler calls it out of line for every vector.
                if relu { sum.replace(with: 0, where: sum .< 0) }
                UnsafeMutableRawPointer(out + j).storeBytes(of: sum, as: SIMD8<Float>.self)
                j += 8
            }
            while j < columns {
                out[j] = relu ? max(lhs[j] + rhs[j], 0) : lhs[j] + rhs[j]
                j += 1
            }
        }
    }

    /// `y = f(x)` elementwise over `rows` rows of `columns`; `y` may alias `x`.
    static func activation(
        into y: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, rows: Int, columns: Int, yStride: Int,
        xStride: Int, _ function: Activation
    ) {
        for r in 0..<rows {
            let out = y + r * yStride
            let source = x + r * xStride
            switch function {
            case .identity: for j in 0..<columns { out[j] = source[j] }
            case .relu: for j in 0..<columns { out[j] = max(source[j], 0) }
            case .sigmoid: for j in 0..<columns { out[j] = sigmoid(source[j]) }
            }
        }
    }

    /// The logistic function, written to stay finite for large |x|.
    static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
    }

    /// `y[w][c] = mean over t of x[c][w · time + t]`, of `max(x, 0)` when `rectified`.
    ///
    /// Sums in eight interleaved lanes (vectorised), then adds the lanes: the order differs from a running sum
    /// by rounding only.
    static func timeMean(
        into y: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, channels: Int, xStride: Int,
        windows: Int, time: Int, rectified: Bool
    ) {
        let scale = 1 / Float(time)
        let lanes = time / 8 * 8
        let floor: Float = rectified ? 0 : -.infinity
        for c in 0..<channels {
            for w in 0..<windows {
                let source = x + c * xStride + w * time
                var partial = SIMD8<Float>()
                var t = 0
                while t < lanes {
                    var lane = UnsafeRawPointer(source + t).loadUnaligned(as: SIMD8<Float>.self)
                    // Not `pointwiseMax`: the compiler calls it out of line for every vector.
                    if rectified { lane.replace(with: 0, where: lane .< 0) }
                    partial += lane
                    t += 8
                }
                var sum = partial.sum()
                while t < time {
                    sum += max(source[t], floor)
                    t += 1
                }
                y[w * channels + c] = sum * scale
            }
        }
    }

    /// Squeeze-and-excitation gating with what follows it, one channel of one window at a time:
    /// `y[c][w · time + t] = x[c][w · time + t] · gates[w][c]` (of `max(x, 0)` when `rectified`), plus `residual`
    /// if given, then ReLU if `relu`; then, if `pooled` is given, the max pooling of the row just written, while it
    /// is in cache.
    ///
    /// Sequences have row stride `rowStride`; gates are `[windows][channels]`. `y` may alias `x` or `residual`
    /// (explicit vectors, each loaded before it is stored: the compiler keeps aliased loops scalar); `pooled` must
    /// not alias any of them. Lane masks rather than `pointwiseMax`, which the compiler calls out of line.
    static func gate(
        into y: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, gates: UnsafePointer<Float>,
        residual: UnsafePointer<Float>?, pooled: UnsafeMutablePointer<Float>?, channels: Int, rowStride: Int,
        windows: Int, time: Int, rectified: Bool, relu: Bool, poolKernel: Int, poolPadLeft: Int
    ) {
        let lanes = time / 8 * 8
        let inputFloor = SIMD8<Float>(repeating: rectified ? 0 : -.infinity)
        let outputFloor = SIMD8<Float>(repeating: relu ? 0 : -.infinity)
        for c in 0..<channels {
            for w in 0..<windows {
                let offset = c * rowStride + w * time
                let g = gates[w * channels + c]
                let scale = SIMD8<Float>(repeating: g)
                let source = x + offset
                let out = y + offset
                var t = 0
                while t < lanes {
                    var v = UnsafeRawPointer(source + t).loadUnaligned(as: SIMD8<Float>.self)
                    v.replace(with: 0, where: v .< inputFloor)
                    v *= scale
                    if let residual {
                        v += UnsafeRawPointer(residual + offset + t).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    v.replace(with: 0, where: v .< outputFloor)
                    UnsafeMutableRawPointer(out + t).storeBytes(of: v, as: SIMD8<Float>.self)
                    t += 8
                }
                while t < time {
                    var v = (rectified ? max(source[t], 0) : source[t]) * g
                    if let residual { v += residual[offset + t] }
                    out[t] = relu ? max(v, 0) : v
                    t += 1
                }
                if let pooled {
                    maxPoolRow(into: pooled + offset, from: out, time: time, kernel: poolKernel, padLeft: poolPadLeft)
                }
            }
        }
    }

    /// `y[w][o] = f(Σ_i x[w][i] · weights[o][i] + bias[o])` for every window of the pass.
    static func dense(
        into y: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, windows: Int, inputs: Int, outputs: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, _ function: Activation
    ) {
        BLAS.multiply(
            m: windows, n: outputs, k: inputs, x, lda: inputs, weights, ldb: inputs, transposingB: true, into: y,
            ldc: outputs)
        for w in 0..<windows {
            let row = y + w * outputs
            for o in 0..<outputs { row[o] += bias[o] }
        }
        activation(into: y, from: y, rows: windows, columns: outputs, yStride: outputs, xStride: outputs, function)
    }
}
