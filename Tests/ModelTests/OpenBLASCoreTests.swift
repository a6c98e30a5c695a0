import Testing

@testable import Model

@Suite struct OpenBLASCoreTests {
    static let avx2: Set<String> = ["sse4_2", "avx", "avx2", "fma"]
    static let avx512 = avx2.union(["avx512f", "avx512cd", "avx512bw", "avx512vl", "avx512dq"])
    static let avx512BF16 = avx512.union(["avx512_bf16"])

    @Test(
        arguments: [
            ("Prescott", avx2, "Haswell"), ("Prescott", avx512, "SkylakeX"), ("Prescott", avx512BF16, "Cooperlake"),
            ("Core2", avx2, "Haswell"), ("Nehalem", avx512BF16, "Cooperlake"), ("Sandybridge", avx2, "Haswell"),
            ("Haswell", avx512BF16, "Cooperlake"), ("Zen", avx512, "SkylakeX"), ("Excavator", avx512, "SkylakeX"),
        ] as [(String, Set<String>, String)])
    func aCoreBelowTheCPUIsReplaced(core: String, flags: Set<String>, expected: String) {
        let check = OpenBLASCore(coreName: core, cpuFlags: flags)
        #expect(check.recommendedCoreType == expected)
    }

    @Test(
        arguments: [
            ("Haswell", avx2), ("SkylakeX", avx512), ("Cooperlake", avx512BF16), ("Zen", avx2),
            ("Prescott", ["sse3", "avx"]), ("SomeFutureCore", avx512BF16), ("", avx2),
        ] as [(String, Set<String>)])
    func aRecognisedCoreOrAnOldCPUIsLeftAlone(core: String, flags: Set<String>) {
        #expect(OpenBLASCore(coreName: core, cpuFlags: flags).recommendedCoreType == nil)
    }

    @Test func readsTheFlagsOfTheFirstProcessor() {
        let cpuinfo = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            flags\t\t: fpu sse3 avx2 fma avx512f
            bugs\t\t: spectre_v1

            processor\t: 1
            flags\t\t: fpu
            """
        #expect(OpenBLASCore.cpuFlags(cpuinfo: cpuinfo) == ["fpu", "sse3", "avx2", "fma", "avx512f"])
        #expect(OpenBLASCore.cpuFlags(cpuinfo: "processor : 0\n").isEmpty)
    }

    @Test func thisProcessNamesItsCore() {
        let core = OpenBLASCore.current()
        #expect(!core.coreName.isEmpty)
        // A relaunch decision without the relaunch: a set variable is respected whatever the core.
        let outcome = OpenBLASRelaunch.relaunchIfNeeded(environment: [OpenBLASRelaunch.variable: "Haswell"])
        #expect(outcome == .alreadySet("Haswell", core))
    }
}
