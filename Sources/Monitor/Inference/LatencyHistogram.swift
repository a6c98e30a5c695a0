import Glibc

/// Counts of latencies in logarithmic buckets, 19 % wide, from 10 µs to 10 s; percentiles to within a bucket.
///
/// Fixed size: recording never allocates, so an inference worker can record every window.
struct LatencyHistogram: Sendable, Equatable {
    /// Buckets per doubling of the latency.
    static let bucketsPerOctave = 4.0
    /// The upper edge of the first bucket, seconds; faster latencies count in it.
    static let smallestSeconds = 10e-6
    /// Buckets up to 20 doublings above the first edge (10 s); slower latencies count in the last one.
    static let bucketCount = 81

    private var counts: [UInt64]

    /// An empty histogram.
    init() {
        counts = Array(repeating: 0, count: Self.bucketCount)
    }

    /// The number of latencies recorded.
    var total: UInt64 { counts.reduce(0, &+) }

    /// Counts one latency: bucket i holds the latencies in (edge(i − 1), edge(i)].
    ///
    /// - Complexity: O(1), no allocation.
    mutating func record(seconds: Double) {
        let position = (log2(seconds / Self.smallestSeconds) * Self.bucketsPerOctave).rounded(.up)
        let index = position.isNaN ? 0 : Int(min(max(position, 0), Double(Self.bucketCount - 1)))
        counts[index] &+= 1
    }

    /// The latencies recorded since `earlier` was taken from this histogram.
    func subtracting(_ earlier: LatencyHistogram) -> LatencyHistogram {
        var difference = self
        for index in counts.indices { difference.counts[index] = counts[index] &- earlier.counts[index] }
        return difference
    }

    /// The latencies of both histograms.
    func adding(_ other: LatencyHistogram) -> LatencyHistogram {
        var sum = self
        for index in counts.indices { sum.counts[index] = counts[index] &+ other.counts[index] }
        return sum
    }

    /// The latency below which a fraction `p` of the recorded ones lie, given as the upper edge of its bucket
    /// (an overestimate by less than 19 %); nil when nothing was recorded.
    func percentile(_ p: Double) -> Double? {
        let total = self.total
        guard total > 0 else { return nil }
        let rank = max(1, UInt64((p * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if seen >= rank { return Self.upperEdgeSeconds(bucket: index) }
        }
        return Self.upperEdgeSeconds(bucket: Self.bucketCount - 1)
    }

    /// The upper edge of bucket `index`, seconds.
    static func upperEdgeSeconds(bucket index: Int) -> Double {
        smallestSeconds * exp2(Double(index) / bucketsPerOctave)
    }
}
