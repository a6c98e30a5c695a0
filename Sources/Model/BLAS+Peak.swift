extension BLAS {
    /// Measures single-threaded `sgemm` throughput on square matrices, the ceiling the engine is compared with.
    ///
    /// Runs `c = a · b` on `size × size` matrices repeatedly for about `seconds` and returns the best rate of the
    /// repetitions, in GFLOP/s (2·size³ operations per product). Uses the current ``threads`` setting.
    public static func peakGigaflops(size: Int = 512, seconds: Double = 1) -> Double {
        precondition(size >= 1 && seconds > 0)
        let count = size * size
        let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        for i in 0..<count {
            a[i] = Float(i % 7) * 0.25 - 0.75
            b[i] = Float(i % 5) * 0.5 - 1
        }
        c.initialize(repeating: 0, count: count)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(seconds * 1000))
        var best = 0.0
        repeat {
            let start = clock.now
            multiply(m: size, n: size, k: size, a, lda: size, b, ldb: size, into: c, ldc: size)
            let elapsed = start.duration(to: clock.now)
            let secondsTaken = elapsed / .seconds(1)
            if secondsTaken > 0 {
                best = max(best, 2 * Double(size) * Double(size) * Double(size) / secondsTaken / 1e9)
            }
        } while clock.now < deadline
        return best
    }
}
