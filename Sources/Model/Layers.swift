import Glibc

/// The primitives of the forward pass, one function per operation, on raw pointers.
///
/// Sequences are channel-major `[channels][windows · time]`: row `c` holds channel `c` of every window of the pass,
/// window after window, so that a convolution over all windows is one matrix product. Vectors are
/// `[windows][channels]`.
/// Callers check sizes once; the loops here only `assert`.
enum Layers {
    /// Tap-major im2col over a block of columns: row `r · channels + c`, column `j` holds
    /// `x[c][window(j)][t(j) + taps[r] − spanLeft]`, or 0 where that falls outside the window (zero padding).
    ///
    /// - Parameters:
    ///   - columns: destination `[taps · channels][blockColumns]`.
    ///   - x: source `[channels][windows · time]` with row stride `rowStride`.
    ///   - firstColumn: the first column (`window · time + t`) of the block.
    static func im2col(
        into columns: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, channels: Int, rowStride: Int,
        time: Int, spanLeft: Int, taps: [Int], firstColumn: Int, blockColumns: Int
    ) {
        assert(time > 0 && blockColumns > 0)
        for (r, tap) in taps.enumerated() {
            let shift = tap - spanLeft
            for c in 0..<channels {
                let source = x + c * rowStride
                let row = columns + (r * channels + c) * blockColumns
                var j = firstColumn
                let end = firstColumn + blockColumns
                while j < end {
                    let windowStart = (j / time) * time
                    let segmentEnd = min(end, windowStart + time)
                    let t0 = j - windowStart
                    let t1 = segmentEnd - windowStart
                    // Output samples whose input sample t + shift lies inside the window.
                    let validStart = min(max(t0, -shift), t1)
                    let validEnd = max(min(t1, time - shift), validStart)
                    let out = row + (j - firstColumn) - t0
                    let from = source + windowStart + shift
                    // Plain loops rather than memcpy calls: rows are short (a window), so the call would cost
                    // as much as the copy.
                    for t in t0..<validStart { out[t] = 0 }
                    for t in validStart..<validEnd { out[t] = from[t] }
                    for t in validEnd..<t1 { out[t] = 0 }
                    j = segmentEnd
                }
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
    ///
    /// Written as `kernel` passes of elementwise maxima over shifted rows, which vectorise; only the few edge
    /// samples whose window reaches into the padding take the scalar path.
    static func maxPool1d(
        into y: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, channels: Int, yStride: Int,
        xStride: Int, windows: Int, time: Int, kernel: Int, padLeft: Int
    ) {
        let padRight = kernel - 1 - padLeft
        let interiorStart = min(padLeft, time)
        let interiorEnd = max(interiorStart, time - padRight)
        for c in 0..<channels {
            for w in 0..<windows {
                let source = x + c * xStride + w * time
                let out = y + c * yStride + w * time
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
    static func add(
        into y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        rows: Int, columns: Int, yStride: Int, aStride: Int, bStride: Int, relu: Bool
    ) {
        for r in 0..<rows {
            let out = y + r * yStride
            let lhs = a + r * aStride
            let rhs = b + r * bStride
            if relu {
                for j in 0..<columns { out[j] = max(lhs[j] + rhs[j], 0) }
            } else {
                for j in 0..<columns { out[j] = lhs[j] + rhs[j] }
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
        let floors = SIMD8<Float>(repeating: floor)
        for c in 0..<channels {
            for w in 0..<windows {
                let source = x + c * xStride + w * time
                var partial = SIMD8<Float>()
                var t = 0
                while t < lanes {
                    partial += pointwiseMax(UnsafeRawPointer(source + t).loadUnaligned(as: SIMD8<Float>.self), floors)
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

    /// `y[c][w · time + t] = x[c][w · time + t] · gates[w][c]`, of `max(x, 0)` when `rectified`; `y` may alias `x`.
    static func scaleChannels(
        into y: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, gates: UnsafePointer<Float>,
        channels: Int, yStride: Int, xStride: Int, windows: Int, time: Int, rectified: Bool
    ) {
        for c in 0..<channels {
            for w in 0..<windows {
                let g = gates[w * channels + c]
                let source = x + c * xStride + w * time
                let out = y + c * yStride + w * time
                if rectified {
                    for t in 0..<time { out[t] = max(source[t], 0) * g }
                } else {
                    for t in 0..<time { out[t] = source[t] * g }
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
