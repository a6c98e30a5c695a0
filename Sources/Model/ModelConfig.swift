import FoundationEssentials

/// One output of the model: an SCP statement code and its description.
public struct ModelClass: Sendable, Equatable, Decodable {
    /// The SCP code, e.g. `NORM`; `class0`, `class1`, … for a model without metadata.
    public let code: String
    /// The statement's description, e.g. `normal ECG`; empty without metadata.
    public let description: String

    /// A class with the given code and description.
    public init(code: String, description: String) {
        self.code = code
        self.description = description
    }
}

/// What the daemon needs to know about a model besides its weights, read from the ONNX `metadata_props`.
///
/// The keys are documented in docs/model-format.md. A model without any `ecg.` key still runs on raw arrays:
/// classes are named by index, thresholds are 0.5, there is no preprocessing, and ``warning`` says so.
public struct ModelConfig: Sendable {
    /// The outputs, in logit order.
    public let classes: [ModelClass]
    /// Per class, the probability at or above which the class counts as present.
    public let thresholds: [Double]
    /// Per class, the alarm operating point (`ecg.alarm_thresholds`): the threshold fitted through the daemon's
    /// alarm rules to a false-alarm budget; nil for a class without one (its record-level threshold applies).
    public let alarmThresholds: [Double?]
    /// The sample rate the model expects, Hz; nil without metadata.
    public let sampleRateHz: Double?
    /// The window length the model was trained on, samples at ``sampleRateHz``; nil without metadata.
    public let windowSamples: Int?
    /// Lead names in input-channel order; `lead0`, `lead1`, … without metadata.
    public let leads: [String]
    /// The physical unit of the samples before preprocessing; nil without metadata.
    public let units: String?
    /// The `ecg.preprocessing` value, a JSON array of steps; nil if absent. The stream pipeline that applies the
    /// steps decodes and checks them (`PreprocessingStep.steps(metadataJSON:leadCount:)` in Stream).
    public let preprocessingMetadata: String?
    /// The label task, e.g. `all`; nil if absent.
    public let task: String?
    /// The provenance object as JSON text; nil if absent.
    public let provenance: String?
    /// Whether the model carried our `ecg.` keys.
    public let hasMetadata: Bool

    /// The warning to log for a model without metadata; nil when the metadata is present.
    public var warning: String? {
        hasMetadata
            ? nil
            : "model has no ecg.* metadata: classes are named by index, thresholds are 0.5, no preprocessing is applied"
    }

    /// Reads the configuration from `metadata_props` and checks it against the graph.
    ///
    /// - Parameters:
    ///   - metadata: the model's key/value pairs, in file order (a repeated key keeps its last value).
    ///   - classCount: the number of logits the graph produces.
    ///   - leadCount: the number of input channels the graph takes.
    /// - Throws: ``ModelError/badMetadata(key:reason:)`` naming the first missing, unparsable or inconsistent key.
    public init(metadata: [(key: String, value: String)], classCount: Int, leadCount: Int) throws(ModelError) {
        var values: [String: String] = [:]
        for (key, value) in metadata where key.hasPrefix("ecg.") { values[key] = value }
        hasMetadata = !values.isEmpty
        guard hasMetadata else {
            classes = (0..<classCount).map { ModelClass(code: "class\($0)", description: "") }
            thresholds = Array(repeating: 0.5, count: classCount)
            alarmThresholds = Array(repeating: nil, count: classCount)
            leads = (0..<leadCount).map { "lead\($0)" }
            sampleRateHz = nil
            windowSamples = nil
            units = nil
            preprocessingMetadata = nil
            task = nil
            provenance = nil
            return
        }
        let reader = MetadataReader(values: values)
        if let version = values["ecg.format_version"], version != "1" {
            throw .badMetadata(key: "ecg.format_version", reason: "version \(version) is not supported (expected 1)")
        }
        classes = try reader.decode([ModelClass].self, "ecg.classes")
        guard classes.count == classCount else {
            throw .badMetadata(
                key: "ecg.classes", reason: "\(classes.count) classes, the graph has \(classCount) outputs")
        }
        thresholds = try reader.decode([Double].self, "ecg.thresholds")
        guard thresholds.count == classCount else {
            throw .badMetadata(key: "ecg.thresholds", reason: "\(thresholds.count) values for \(classCount) classes")
        }
        guard thresholds.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw .badMetadata(key: "ecg.thresholds", reason: "every threshold must be a probability in [0, 1]")
        }
        let alarmKey = "ecg.alarm_thresholds"
        let alarm = values[alarmKey] == nil ? [:] : try reader.decode([String: Double].self, alarmKey)
        let codes = Set(classes.map(\.code))
        if let unknown = alarm.keys.sorted().first(where: { !codes.contains($0) }) {
            throw .badMetadata(key: alarmKey, reason: "\(unknown) is not one of the model's classes")
        }
        guard alarm.values.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw .badMetadata(key: alarmKey, reason: "every threshold must be a probability in [0, 1]")
        }
        alarmThresholds = classes.map { alarm[$0.code] }
        let rate = try reader.number("ecg.sample_rate_hz")
        guard rate > 0, rate.isFinite else { throw .badMetadata(key: "ecg.sample_rate_hz", reason: "must be > 0") }
        sampleRateHz = rate
        let window = try reader.number("ecg.window_samples")
        guard window >= 1, window <= 1_000_000, window == window.rounded() else {
            throw .badMetadata(key: "ecg.window_samples", reason: "must be a whole number of samples ≥ 1")
        }
        windowSamples = Int(window)
        leads = try reader.decode([String].self, "ecg.leads")
        guard leads.count == leadCount else {
            throw .badMetadata(key: "ecg.leads", reason: "\(leads.count) leads, the graph takes \(leadCount) channels")
        }
        units = values["ecg.units"]
        task = values["ecg.task"]
        provenance = values["ecg.provenance"]
        preprocessingMetadata = values["ecg.preprocessing"]
    }
}

/// Typed access to the `ecg.` values, turning every failure into ``ModelError/badMetadata(key:reason:)``.
private struct MetadataReader {
    let values: [String: String]

    func raw(_ key: String) throws(ModelError) -> String {
        guard let value = values[key] else { throw .badMetadata(key: key, reason: "missing") }
        return value
    }

    func number(_ key: String) throws(ModelError) -> Double {
        let text = String(try raw(key).filter { !$0.isWhitespace })
        guard let value = Double(text) else { throw .badMetadata(key: key, reason: "\"\(text)\" is not a number") }
        return value
    }

    func decode<T: Decodable>(_ type: T.Type, _ key: String) throws(ModelError) -> T {
        let text = try raw(key)
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw .badMetadata(key: key, reason: "not the expected JSON (\(error))")
        }
    }
}
