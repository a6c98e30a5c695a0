import Foundation
import Stream

/// A float32 array read from a NumPy `.npy` file (format versions 1 to 3).
///
/// Only what `numpy.save` writes for `float32` arrays is accepted: `descr` `<f4`, C order. Anything else is
/// refused with the reason, never guessed.
package struct NpyArray: Equatable {
    /// The shape, outermost first.
    package let shape: [Int]
    /// The values in C (row-major) order.
    package let values: [Float]

    /// An array from its parts; `values.count` must be the product of `shape`.
    package init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape and value count disagree")
        self.shape = shape
        self.values = values
    }

    /// Reads the file at `path`.
    ///
    /// - Throws: ``InputError``.
    package init(contentsOf path: String) throws(InputError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(filePath: path))
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        try self.init(bytes: [UInt8](data), path: path)
    }

    /// Parses the bytes of a `.npy` file; `path` is for messages.
    package init(bytes: [UInt8], path: String) throws(InputError) {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw .badNpy(path: path, reason: "missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .badNpy(path: path, reason: "truncated header length") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw .badNpy(path: path, reason: "format version \(major) is not supported")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw .badNpy(path: path, reason: "header of \(headerLength) bytes runs past the end of the file")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = Self.value(of: "descr", in: header), descr == "'<f4'" else {
            throw .badNpy(
                path: path, reason: "dtype must be little-endian float32 ('<f4'), header says \(header.escapedForLog)")
        }
        guard Self.value(of: "fortran_order", in: header) == "False" else {
            throw .badNpy(path: path, reason: "Fortran-ordered arrays are not supported")
        }
        guard let shapeText = Self.value(of: "shape", in: header), let shape = Self.parseShape(shapeText) else {
            throw .badNpy(path: path, reason: "cannot read the shape in \(header.escapedForLog)")
        }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw .badNpy(path: path, reason: "shape \(shape) is too large") }
            count = product
        }
        let dataStart = headerStart + headerLength
        let (byteCount, tooLarge) = count.multipliedReportingOverflow(by: 4)
        guard !tooLarge else { throw .badNpy(path: path, reason: "shape \(shape) is too large") }
        guard bytes.count - dataStart == byteCount else {
            throw .badNpy(
                path: path, reason: "shape \(shape) needs \(byteCount) bytes, file has \(bytes.count - dataStart)")
        }
        self.shape = shape
        self.values = (0..<count).map { i in
            let o = dataStart + 4 * i
            let word =
                UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
            return Float(bitPattern: word)
        }
    }

    /// The text of `key`'s value in the header's Python dict literal, up to the next top-level comma or brace.
    private static func value(of key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)':") else { return nil }
        var depth = 0
        var result = ""
        for character in header[keyRange.upperBound...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if depth == 0 && (character == "," || character == "}") { break }
            result.append(character)
            if depth == 0 && character == ")" { break }
        }
        return result.trimmingCharacters(in: .whitespaces)
    }

    /// `(12, 250)`, `(5, 12, 250)`, `(7,)` → dims; nil if not a tuple of non-negative integers.
    private static func parseShape(_ text: String) -> [Int]? {
        guard text.hasPrefix("("), text.hasSuffix(")") else { return nil }
        let inner = text.dropFirst().dropLast()
        var dims: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dim = Int(trimmed), dim >= 0 else { return nil }
            dims.append(dim)
        }
        return dims
    }
}
