/// A set of lead indices (0-based, in the model's lead order), stored as a bit mask.
public struct LeadSet: Sendable, Equatable, Hashable, Sequence {
    /// The largest number of leads a set can hold.
    public static let capacity = 64

    /// Bit `i` set ⇔ lead `i` is in the set.
    public private(set) var bits: UInt64

    /// The empty set.
    public init() {
        bits = 0
    }

    /// A set holding `leads`.
    ///
    /// - Precondition: every index is in `0..<LeadSet.capacity`.
    public init(_ leads: some Sequence<Int>) {
        bits = 0
        for lead in leads {
            insert(lead)
        }
    }

    /// Whether no lead is in the set.
    public var isEmpty: Bool { bits == 0 }

    /// Whether `lead` is in the set.
    public func contains(_ lead: Int) -> Bool {
        lead >= 0 && lead < Self.capacity && bits & (1 << UInt64(lead)) != 0
    }

    /// Adds `lead`.
    ///
    /// - Precondition: `lead` is in `0..<LeadSet.capacity`.
    public mutating func insert(_ lead: Int) {
        precondition(lead >= 0 && lead < Self.capacity, "lead index \(lead) outside 0..<\(Self.capacity)")
        bits |= 1 << UInt64(lead)
    }

    /// The leads in ascending order.
    public func makeIterator() -> some IteratorProtocol<Int> {
        var remaining = bits
        return AnyIterator {
            guard remaining != 0 else { return nil }
            let lead = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            return lead
        }
    }
}
