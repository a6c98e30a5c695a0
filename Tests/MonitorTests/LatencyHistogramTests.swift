import Testing

@testable import Monitor

@Suite struct LatencyHistogramTests {
    @Test func percentilesFallInTheBucketOfTheRankedLatency() throws {
        var histogram = LatencyHistogram()
        #expect(histogram.percentile(0.5) == nil)
        for millisecond in 1...100 { histogram.record(seconds: Double(millisecond) / 1000) }
        #expect(histogram.total == 100)
        let p50 = try #require(histogram.percentile(0.5))
        let p99 = try #require(histogram.percentile(0.99))
        // The bucket's upper edge: at or above the true value, by less than one bucket (19 %).
        #expect(p50 >= 0.050 && p50 < 0.050 * 1.19)
        #expect(p99 >= 0.099 && p99 < 0.099 * 1.19)
    }

    @Test(arguments: [0, 1e-9, -1, Double.nan, 1e6])
    func extremeLatenciesLandInTheEndBuckets(seconds: Double) throws {
        var histogram = LatencyHistogram()
        histogram.record(seconds: seconds)
        let p = try #require(histogram.percentile(1))
        #expect(p == LatencyHistogram.upperEdgeSeconds(bucket: seconds > 1 ? LatencyHistogram.bucketCount - 1 : 0))
    }

    @Test func intervalIsTheDifferenceOfTwoReadings() {
        var histogram = LatencyHistogram()
        histogram.record(seconds: 0.001)
        let earlier = histogram
        histogram.record(seconds: 0.2)
        let interval = histogram.subtracting(earlier)
        #expect(interval.total == 1)
        #expect(interval.percentile(0.5) == histogram.percentile(1))
        #expect(interval.adding(earlier) == histogram)
    }
}
