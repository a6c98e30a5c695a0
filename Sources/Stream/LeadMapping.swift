/// How the leads a stream sends become the model's leads: reordered, and III, aVR, aVL, aVF derived from
/// I and II when they are not sent.
///
/// Each model lead is `a · sent[first] + b · sent[second]`; a lead that is sent is copied (`b = 0`).
public struct LeadMapping: Sendable, Equatable {
    /// One model lead's recipe.
    public struct Source: Sendable, Equatable {
        /// Index in the sent order of the first term.
        public var first: Int
        /// Its coefficient.
        public var firstCoefficient: Float
        /// Index in the sent order of the second term (equal to `first` when unused).
        public var second: Int
        /// Its coefficient (0 when unused).
        public var secondCoefficient: Float
    }

    /// Recipes in the model's lead order.
    public let sources: [Source]
    /// Model leads computed rather than sent.
    public let derivedLeads: [StandardLead]

    /// Maps `sent` leads onto `model` leads.
    ///
    /// - Throws: ``StreamError/missingLead(name:)`` for a model lead that is neither sent nor derivable.
    public init(sent: [StandardLead], model: [StandardLead]) throws(StreamError) {
        var sources: [Source] = []
        var derived: [StandardLead] = []
        for lead in model {
            if let index = sent.firstIndex(of: lead) {
                sources.append(Source(first: index, firstCoefficient: 1, second: index, secondCoefficient: 0))
                continue
            }
            guard lead.isDerivableFromLimbLeads, let leadI = sent.firstIndex(of: .i),
                let leadII = sent.firstIndex(of: .ii),
                let coefficients = lead.limbLeadCoefficients
            else {
                throw .missingLead(name: lead.name)
            }
            sources.append(
                Source(
                    first: leadI,
                    firstCoefficient: coefficients.i,
                    second: leadII,
                    secondCoefficient: coefficients.ii
                )
            )
            derived.append(lead)
        }
        self.sources = sources
        derivedLeads = derived
    }

    /// Computes the model leads of one instant, and their fault flags (the union of their sources' flags).
    ///
    /// - Parameters:
    ///   - sent: values in the sent order, `[sent.count]`, finite.
    ///   - sentFlags: flags in the sent order.
    ///   - model: receives `[sources.count]` values.
    ///   - modelFlags: receives `[sources.count]` flags.
    /// - Complexity: O(model leads).
    func apply(
        sent: UnsafePointer<Float>,
        sentFlags: UnsafePointer<UInt8>,
        model: UnsafeMutablePointer<Float>,
        modelFlags: UnsafeMutablePointer<UInt8>
    ) {
        for (index, source) in sources.enumerated() {
            model[index] = source.firstCoefficient * sent[source.first] + source.secondCoefficient * sent[source.second]
            modelFlags[index] = sentFlags[source.first] | sentFlags[source.second]
        }
    }
}
