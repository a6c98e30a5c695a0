extension PreprocessingStep {
    /// The steps a model's `ecg.preprocessing` metadata lists (docs/model-format.md), checked against its leads.
    ///
    /// - Parameters:
    ///   - metadataJSON: The metadata value: a JSON array of `{"op": "standardize", "mean": […], "std": […]}` and
    ///     `{"op": "sos_filter", "sos": [[b0, b1, b2, a0, a1, a2], …]}` objects, in the order they apply.
    ///   - leadCount: The number of model leads.
    /// - Throws: ``StreamError/badConfiguration(reason:)`` naming `ecg.preprocessing`, the step and the problem.
    public static func steps(metadataJSON: String, leadCount: Int) throws(StreamError) -> [PreprocessingStep] {
        let document: JSONValue
        do {
            document = try JSONValue.parse(Array(metadataJSON.utf8))
        } catch {
            throw .badConfiguration(reason: "ecg.preprocessing is not JSON: \(error)")
        }
        guard case .array(let items) = document else {
            throw .badConfiguration(reason: "ecg.preprocessing is a \(document.typeName), not an array of steps")
        }
        var steps: [PreprocessingStep] = []
        for (index, item) in items.enumerated() {
            do {
                let step = try PreprocessingStep(metadata: item)
                try step.validate(leadCount: leadCount)
                steps.append(step)
            } catch {
                guard case .badConfiguration(let reason) = error else { throw error }
                throw .badConfiguration(reason: "ecg.preprocessing step \(index): \(reason)")
            }
        }
        return steps
    }

    private init(metadata: JSONValue) throws(StreamError) {
        guard let members = metadata.objectMembers else {
            throw .badConfiguration(reason: "a \(metadata.typeName), not an object")
        }
        let fields = Dictionary(members, uniquingKeysWith: { first, _ in first })
        switch fields["op"] {
        case .string("standardize"):
            self = .standardize(
                mean: try Self.numbers(fields["mean"], name: "mean"),
                std: try Self.numbers(fields["std"], name: "std")
            )
        case .string("sos_filter"):
            guard case .array(let rows) = fields["sos"] else {
                throw .badConfiguration(reason: "sos_filter needs \"sos\", an array of sections")
            }
            var sections: [SecondOrderSection] = []
            for row in rows { sections.append(try SecondOrderSection(row: try Self.numbers(row, name: "sos"))) }
            self = .sosFilter(sections: sections)
        case .string(let op):
            throw .badConfiguration(reason: "unknown op \"\(op)\"")
        default:
            throw .badConfiguration(reason: "no \"op\" string")
        }
    }

    private static func numbers(_ value: JSONValue?, name: String) throws(StreamError) -> [Double] {
        guard case .array(let items) = value else {
            throw .badConfiguration(reason: "\"\(name)\" needs an array of numbers")
        }
        var numbers: [Double] = []
        for item in items {
            guard case .number(let number) = item else {
                throw .badConfiguration(reason: "\"\(name)\" holds a \(item.typeName), not a number")
            }
            numbers.append(number)
        }
        return numbers
    }
}
