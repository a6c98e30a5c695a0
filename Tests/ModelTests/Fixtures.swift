import Foundation
import Testing

/// The committed reference fixtures (tools/make_model_fixtures.py), located from this source file.
enum Fixtures {
    /// One golden case of index.json: a model, an input batch and ONNX Runtime's logits for it.
    struct Case: Decodable, CustomTestStringConvertible {
        let model: String
        let input: String
        let batch: Int
        let time: Int
        let classes: Int
        let logits: String
        /// For a graph that ends in a Sigmoid, ONNX Runtime's output (probabilities); `logits` are then those of the
        /// same network without the Sigmoid.
        let probabilities: String?

        var testDescription: String { "\(model) T=\(time) B=\(batch)" }
    }

    private struct Index: Decodable {
        let cases: [Case]
    }

    static let directory = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")

    static func url(_ name: String) -> URL { directory.appending(path: name) }

    static func path(_ name: String) -> String { url(name).path }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }

    /// A raw little-endian float32 file.
    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: url(name))
        return data.withUnsafeBytes { raw in
            (0..<data.count / 4).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }

    static var cases: [Case] {
        guard let data = try? Data(contentsOf: url("index.json")),
            let index = try? JSONDecoder().decode(Index.self, from: data)
        else { return [] }
        return index.cases
    }
}
