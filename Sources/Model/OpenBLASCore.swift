import Glibc

/// Which OpenBLAS kernels ("core") the process runs, and the `OPENBLAS_CORETYPE` it should run with instead
/// when OpenBLAS fell back to generic kernels on a CPU it did not recognise.
///
/// OpenBLAS built with `DYNAMIC_ARCH` (Debian's) picks its kernels from cpuid when the library loads. A CPU model
/// newer than the library (Debian's 0.3.21 on an Intel Xeon of family 6, model 207) gets the Prescott (SSE3)
/// kernels even when it has AVX2 or AVX-512: sgemm then runs at about a fifth of its speed. Setting
/// `OPENBLAS_CORETYPE` before the library loads selects the right kernels; ``OpenBLASRelaunch`` does that by
/// re-executing the process.
public struct OpenBLASCore: Sendable, Equatable {
    /// The kernels in use, as `openblas_get_corename()` names them (`Haswell`, `SkylakeX`, `Prescott`, …).
    public let coreName: String
    /// The `OPENBLAS_CORETYPE` value that selects the kernels this CPU deserves, when ``coreName`` is a generic
    /// core below AVX2 on a CPU with AVX2 or AVX-512; nil when the core in use is fine.
    public let recommendedCoreType: String?

    /// Decides from a core name and the CPU's feature flags (as `/proc/cpuinfo` lists them).
    ///
    /// Only a core with pre-AVX2 kernels is replaced: a core OpenBLAS recognised as AVX2 or better (or one this
    /// type does not know) is its own choice and left alone. The replacement is `Cooperlake` for AVX-512 with
    /// BF16, `SkylakeX` for AVX-512 F/BW/VL/DQ, `Haswell` for AVX2 with FMA.
    public init(coreName: String, cpuFlags: Set<String>) {
        self.coreName = coreName
        guard Self.preAVX2Cores.contains(coreName.lowercased()) else {
            recommendedCoreType = nil
            return
        }
        recommendedCoreType =
            if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) {
                cpuFlags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
            } else if cpuFlags.isSuperset(of: ["avx2", "fma"]) {
                "Haswell"
            } else {
                nil
            }
    }

    /// The kernels of this process's OpenBLAS, judged against this machine's `/proc/cpuinfo` flags (none when it
    /// cannot be read: then nothing is recommended).
    public static func current() -> OpenBLASCore {
        OpenBLASCore(coreName: BLAS.coreName, cpuFlags: cpuFlags(cpuinfo: readCPUInfo() ?? ""))
    }

    /// The feature flags of the first processor listed in `/proc/cpuinfo` text.
    public static func cpuFlags(cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].filter({ !$0.isWhitespace }) == "flags" else { continue }
            return Set(parts[1].split(separator: " ").map(String.init))
        }
        return []
    }

    /// x86 cores of OpenBLAS 0.3.x whose kernels stop before AVX2, lowercased.
    static let preAVX2Cores: Set<String> = [
        "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn", "dunnington", "nehalem",
        "sandybridge", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat", "bulldozer", "piledriver",
        "steamroller",
    ]

    private static func readCPUInfo() -> String? {
        guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
