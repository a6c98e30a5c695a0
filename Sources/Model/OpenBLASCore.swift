import Glibc

/// Which OpenBLAS kernels ("core") the process runs, and the `OPENBLAS_CORETYPE` it should run with instead
/// when OpenBLAS chose kernels below what the CPU can run.
///
/// OpenBLAS built with `DYNAMIC_ARCH` (Debian's) picks its kernels from cpuid when the library loads. A CPU model
/// newer than the library gets older kernels than it deserves: Debian's 0.3.21 gives an Intel Xeon of family 6,
/// model 207 the Prescott (SSE3) kernels, sgemm at about a fifth of its speed. AVX2 kernels on an AVX-512 CPU
/// cost less but still count: on an AMD EPYC of family 26 (Zen 5) the Haswell kernels run the model at about 0.6
/// times the speed of the Cooperlake ones (BENCHMARKS.md). Setting `OPENBLAS_CORETYPE` before the library loads
/// selects the right kernels; ``OpenBLASRelaunch`` does that by re-executing the process.
public struct OpenBLASCore: Sendable, Equatable {
    /// The kernels in use, as `openblas_get_corename()` names them (`Haswell`, `SkylakeX`, `Prescott`, …).
    public let coreName: String
    /// The `OPENBLAS_CORETYPE` value that selects the kernels this CPU deserves, when ``coreName`` is a core with
    /// pre-AVX2 kernels on a CPU with AVX2, or one with AVX2 kernels on a CPU with AVX-512; nil when the core in
    /// use is fine.
    public let recommendedCoreType: String?

    /// Decides from a core name and the CPU's feature flags (as `/proc/cpuinfo` lists them).
    ///
    /// A core whose kernels stop below the CPU's vector width is replaced: `Cooperlake` for AVX-512 with BF16,
    /// `SkylakeX` for AVX-512 F/BW/VL/DQ, `Haswell` for AVX2 with FMA. A core at the CPU's width (or one this type
    /// does not know) is OpenBLAS's own choice and left alone.
    public init(coreName: String, cpuFlags: Set<String>) {
        self.coreName = coreName
        let core = coreName.lowercased()
        let belowAVX2 = Self.preAVX2Cores.contains(core)
        recommendedCoreType =
            if (belowAVX2 || Self.avx2Cores.contains(core))
                && cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"])
            {
                cpuFlags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
            } else if belowAVX2 && cpuFlags.isSuperset(of: ["avx2", "fma"]) {
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

    /// x86 cores of OpenBLAS 0.3.x whose kernels stop at AVX2, lowercased.
    static let avx2Cores: Set<String> = ["haswell", "excavator", "zen"]

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
