import Testing

@testable import Stream

@Suite struct LeadRingBufferTests {
    @Test(arguments: [1, 5, 8, 9])
    func capacityIsTheNextPowerOfTwo(minimum: Int) {
        let ring = LeadRingBuffer<Float>(leadCount: 2, minimumCapacity: minimum, initial: 0)
        #expect(ring.capacity >= minimum && ring.capacity < 2 * max(minimum, 1))
        #expect(ring.capacity & (ring.capacity - 1) == 0)
    }

    /// Appends 0, 1, 2, … (lead l holds value + 1000·l) and checks every read against that rule.
    @Test(arguments: [7, 8, 9, 15, 16, 17, 40])
    func copiesTheLastSamplesAcrossTheWrap(appendCount: Int) {
        let ring = LeadRingBuffer<Float>(leadCount: 3, minimumCapacity: 8, initial: -1)
        for index in 0..<appendCount {
            let values: [Float] = (0..<3).map { Float(index + 1000 * $0) }
            values.withUnsafeBufferPointer { ring.append($0.baseAddress!) }
            ring.testOnly_checkInvariants()
        }
        #expect(ring.count == min(appendCount, 8))
        for instants in 1...ring.count {
            var copy = [Float](repeating: .nan, count: 3 * instants)
            copy.withUnsafeMutableBufferPointer { ring.copyLast(instants, into: $0.baseAddress!) }
            let expected: [Float] = (0..<3).flatMap { lead in
                ((appendCount - instants)..<appendCount).map { Float($0 + 1000 * lead) }
            }
            #expect(copy == expected, "last \(instants) of \(appendCount)")
        }
        #expect(ring[lead: 2, index: appendCount - 1] == Float(appendCount - 1 + 2000))
    }

    @Test func wrapsAtExactlyTheCapacity() {
        let ring = LeadRingBuffer<UInt8>(leadCount: 1, minimumCapacity: 4, initial: 0)
        for value in UInt8(1)...4 { withUnsafePointer(to: value) { ring.append($0) } }
        var copy = [UInt8](repeating: 0, count: 4)
        copy.withUnsafeMutableBufferPointer { ring.copyLast(4, into: $0.baseAddress!) }
        #expect(copy == [1, 2, 3, 4])
        withUnsafePointer(to: UInt8(5)) { ring.append($0) }
        copy.withUnsafeMutableBufferPointer { ring.copyLast(4, into: $0.baseAddress!) }
        #expect(copy == [2, 3, 4, 5])
        var runs: [[UInt8]] = []
        ring.forEachLeadRun(last: 4) { _, first, second in runs = [Array(first), Array(second)] }
        #expect(runs == [[2, 3, 4], [5]])
        ring.testOnly_checkInvariants()
    }
}
