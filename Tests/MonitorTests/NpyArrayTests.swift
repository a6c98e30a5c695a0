import Testing

@testable import Monitor

@Suite struct NpyArrayTests {
    /// The bytes `numpy.save` writes for a float32 array (format 1.0, header padded to 64 bytes).
    static func npy(shape: String, descr: String = "<f4", fortran: String = "False", values: [Float]) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        for v in values {
            let bits = v.bitPattern
            bytes += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
        }
        return bytes
    }

    @Test func readsShapeAndValues() throws {
        let array = try NpyArray(bytes: Self.npy(shape: "(2, 3)", values: [1, 2, 3, 4, 5, -6.5]), path: "a.npy")
        #expect(array.shape == [2, 3])
        #expect(array.values == [1, 2, 3, 4, 5, -6.5])
    }

    @Test func readsAOneDimensionalShape() throws {
        #expect(try NpyArray(bytes: Self.npy(shape: "(2,)", values: [1, 2]), path: "a.npy").shape == [2])
    }

    @Test(arguments: [
        npy(shape: "(2, 3)", descr: "<f8", values: [1, 2, 3]),
        npy(shape: "(2, 3)", fortran: "True", values: [1, 2, 3, 4, 5, 6]),
        npy(shape: "(2, 3)", values: [1, 2, 3]),
        npy(shape: "(2, x)", values: []),
        // The element count fits an Int, its byte count does not.
        npy(shape: "(2305843009213693952,)", values: []),
        Array("not a numpy file".utf8),
        Array(npy(shape: "(2, 3)", values: [1, 2, 3, 4, 5, 6]).prefix(20)),
    ])
    func refusesWhatItCannotRead(_ bytes: [UInt8]) {
        #expect(throws: InputError.self) { try NpyArray(bytes: bytes, path: "bad.npy") }
    }
}
