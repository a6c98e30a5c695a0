/// The `.npy` reader of `classify`: any bytes as a file parse to an array whose shape matches its values, or
/// throw, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpyArray(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let array = try? NpyArray(bytes: bytes, path: "fuzz.npy") {
        precondition(array.shape.reduce(1, *) == array.values.count)
    }
    return 0
}
