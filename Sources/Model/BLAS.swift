import COpenBLAS

/// The only place that calls OpenBLAS: shape-documented wrappers around `cblas_sgemm` and the thread setting.
///
/// All matrices are row-major float32 with explicit leading dimensions (elements between consecutive rows), so
/// that a caller can address a block of columns or a range of rows inside a larger buffer.
public enum BLAS {
    /// `c[m][n] = a[m][k] · b[k][n]`, with `a` stored transposed (`[k][m]`) when `transposingA` is set, or
    /// `a · bᵀ` with `b` stored `[n][k]` when `transposingB` is set (dense layers: windows × features times
    /// weights `[out][in]`).
    ///
    /// - Parameters:
    ///   - a: `[m][k]` with row stride `lda ≥ k`, or `[k][m]` with `lda ≥ m` when transposing.
    ///   - b: `[k][n]` with row stride `ldb ≥ n`, or `[n][k]` with `ldb ≥ k` when transposing.
    ///   - c: `[m][n]` with row stride `ldc ≥ n`; overwritten, or added to when `accumulate` is set.
    ///
    /// The corresponding C function is `cblas_sgemm`.
    static func multiply(
        m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, lda: Int, transposingA: Bool = false,
        _ b: UnsafePointer<Float>, ldb: Int, transposingB: Bool = false,
        into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false
    ) {
        assert(m > 0 && n > 0 && k > 0 && lda >= (transposingA ? m : k) && ldb >= (transposingB ? k : n) && ldc >= n)
        cblas_sgemm(
            CblasRowMajor, transposingA ? CblasTrans : CblasNoTrans, transposingB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), 1, a, blasint(lda), b, blasint(ldb), accumulate ? 1 : 0, c,
            blasint(ldc))
    }

    /// The number of threads OpenBLAS uses inside one call, for the whole process.
    ///
    /// Inference workers run single-threaded OpenBLAS (one worker per core scales better than one worker with
    /// several BLAS threads on these machines), so set this to 1 once, before starting workers.
    ///
    /// The corresponding C functions are `openblas_get_num_threads` and `openblas_set_num_threads`.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set {
            precondition(newValue >= 1, "OpenBLAS needs at least one thread")
            openblas_set_num_threads(Int32(newValue))
        }
    }

    /// The name of the kernel set OpenBLAS chose for this CPU when it loaded (`Haswell`, `SkylakeX`, `Prescott`,
    /// …), or what `OPENBLAS_CORETYPE` selected; see ``OpenBLASCore``.
    ///
    /// The corresponding C function is `openblas_get_corename`.
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? ""
    }
}
