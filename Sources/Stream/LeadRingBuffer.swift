/// Fixed-capacity ring of the most recent samples of every lead; never grows.
///
/// Storage is `[lead][capacity]` in one allocation; the capacity is a power of two so an index wraps
/// with a mask. All leads advance together, one instant per ``append(_:)``.
public final class LeadRingBuffer<Element: BitwiseCopyable> {
    /// Leads held.
    public let leadCount: Int
    /// Instants held per lead, a power of two.
    public let capacity: Int
    /// Instants appended since creation (the stream index of the next instant).
    public private(set) var appendedCount = 0

    private let mask: Int
    private let storage: UnsafeMutablePointer<Element>

    /// Creates a ring holding at least `minimumCapacity` instants of `leadCount` leads, filled with `initial`.
    public init(leadCount: Int, minimumCapacity: Int, initial: Element) {
        precondition(leadCount >= 1 && minimumCapacity >= 1, "a ring needs leads and capacity")
        self.leadCount = leadCount
        var capacity = 1
        while capacity < minimumCapacity { capacity <<= 1 }
        self.capacity = capacity
        mask = capacity - 1
        storage = .allocate(capacity: leadCount * capacity)
        storage.initialize(repeating: initial, count: leadCount * capacity)
    }

    deinit {
        storage.deallocate()
    }

    /// Instants currently held: `min(appendedCount, capacity)`.
    public var count: Int { min(appendedCount, capacity) }

    /// Appends one instant, overwriting the oldest when full.
    ///
    /// - Parameter values: one value per lead, `[leadCount]`.
    /// - Complexity: O(leads).
    public func append(_ values: UnsafePointer<Element>) {
        let slot = appendedCount & mask
        for lead in 0..<leadCount {
            storage[lead * capacity + slot] = values[lead]
        }
        appendedCount += 1
    }

    /// The value of `lead` at stream index `index`, which must still be held.
    public subscript(lead lead: Int, index index: Int) -> Element {
        precondition(index < appendedCount && index >= appendedCount - count, "index no longer held")
        return storage[lead * capacity + (index & mask)]
    }

    /// Copies the last `instants` values of every lead, oldest first, into `destination`.
    ///
    /// - Parameters:
    ///   - instants: at most ``count``.
    ///   - destination: `[leadCount][instants]` row-major.
    /// - Complexity: O(leads · instants), at most two `memcpy`s per lead.
    public func copyLast(_ instants: Int, into destination: UnsafeMutablePointer<Element>) {
        precondition(instants <= count, "cannot copy more instants than are held")
        let start = (appendedCount - instants) & mask
        let firstRun = min(instants, capacity - start)
        for lead in 0..<leadCount {
            let row = storage + lead * capacity
            let target = destination + lead * instants
            target.update(from: row + start, count: firstRun)
            if firstRun < instants {
                (target + firstRun).update(from: row, count: instants - firstRun)
            }
        }
    }

    /// Calls `body` with each lead's last `instants` values as at most two contiguous runs, oldest first.
    ///
    /// - Complexity: O(leads) plus the work of `body`.
    public func forEachLeadRun(
        last instants: Int,
        _ body: (_ lead: Int, _ first: UnsafeBufferPointer<Element>, _ second: UnsafeBufferPointer<Element>) -> Void
    ) {
        precondition(instants <= count, "cannot read more instants than are held")
        let start = (appendedCount - instants) & mask
        let firstRun = min(instants, capacity - start)
        for lead in 0..<leadCount {
            let row = storage + lead * capacity
            body(
                lead,
                UnsafeBufferPointer(start: row + start, count: firstRun),
                UnsafeBufferPointer(start: row, count: instants - firstRun)
            )
        }
    }

    // MARK: - Testing

    /// Checks the ring's bookkeeping; tests call it after every mutation.
    func testOnly_checkInvariants() {
        precondition(capacity > 0 && capacity & mask == 0 && mask == capacity - 1, "capacity is a power of two")
        precondition(appendedCount >= 0 && count <= capacity)
    }
}
