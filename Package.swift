// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let system = Target.Dependency.product(name: "SystemPackage", package: "swift-system")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let serviceLifecycleTestKit = Target.Dependency.product(
    name: "ServiceLifecycleTestKit",
    package: "swift-service-lifecycle"
)

let package = Package(
    name: "ecg-monitor",
    products: [
        .executable(name: "ecg-monitor", targets: ["ecg-monitor"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0", traits: ["YAML"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .target(
            name: "Model",
            dependencies: ["COpenBLAS"],
            swiftSettings: swiftSettings
        ),
        // Beats and heart rate: the QRS detector, the rate meter, WFDB annotations; no dependencies.
        .target(
            name: "Beats",
            swiftSettings: swiftSettings
        ),
        // Frames to windows: decoding, resampling, signal quality, and the beats of every stream.
        .target(
            name: "Stream",
            dependencies: ["Beats"],
            swiftSettings: swiftSettings
        ),
        // Pure alarm logic: no I/O, no clock, no NIO, no libsystemd.
        .target(
            name: "Alarms",
            dependencies: ["Beats", "Stream"],
            swiftSettings: swiftSettings
        ),
        // sd_notify, socket activation, the journal: no ECG knowledge.
        .target(
            name: "Systemd",
            dependencies: ["CSystemd", logging, serviceLifecycle, system],
            swiftSettings: swiftSettings
        ),
        // The daemon as a library: ingest, window hand-off, inference, alert sinks, configuration, runtime.
        .target(
            name: "Monitor",
            dependencies: [
                "Alarms",
                "Model",
                "Stream",
                "Systemd",
                logging,
                nioCore,
                nioPosix,
                serviceLifecycle,
                system,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // What feeds streams: the simulator, record sources, the protocol writer, pacing.
        .target(
            name: "Producers",
            dependencies: ["Stream", nioCore, nioPosix, system],
            swiftSettings: swiftSettings
        ),
        // What `ecg-monitor bench` and `annotate --bench` measure: the engine, the QRS detector.
        .target(
            name: "Benchmarks",
            dependencies: ["Beats", "Model", "Producers"],
            swiftSettings: swiftSettings
        ),
        // The executable: argument parsing only.
        .executableTarget(
            name: "ecg-monitor",
            dependencies: [
                "Alarms", "Beats", "Benchmarks", "Model", "Monitor", "Producers", "Stream", "Systemd", argumentParser,
                logging,
            ],
            swiftSettings: swiftSettings
        ),
        // Test code shared by the test targets: sockets, a private journald, daemon processes, test streams.
        .target(
            name: "TestSupport",
            dependencies: ["Model", "Producers", "Stream", "Systemd", logging, nioCore, nioPosix],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        // Alarm fixtures (rules, sample events), pure like the module they feed.
        .target(
            name: "AlarmsTestSupport",
            dependencies: ["Alarms"],
            path: "Tests/AlarmsTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ModelTests",
            dependencies: ["Model"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BeatsTests",
            dependencies: ["Beats", "Stream"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StreamTests",
            dependencies: ["Stream"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AlarmsTests",
            dependencies: ["Alarms", "AlarmsTestSupport", "Beats", "Stream"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SystemdTests",
            dependencies: [
                "Systemd",
                "TestSupport",
                logging,
                .product(name: "InMemoryLogging", package: "swift-log"),
                serviceLifecycle,
                serviceLifecycleTestKit,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BenchmarksTests",
            dependencies: ["Benchmarks", "Model", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProducersTests",
            dependencies: ["Producers", "Stream", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MonitorTests",
            dependencies: [
                "Alarms",
                "AlarmsTestSupport",
                "Beats",
                "Model",
                "Monitor",
                "Producers",
                "Stream",
                "Systemd",
                "TestSupport",
                logging,
                .product(name: "InMemoryLogging", package: "swift-log"),
                nioCore,
                nioPosix,
                serviceLifecycle,
                serviceLifecycleTestKit,
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EcgMonitorTests",
            dependencies: [
                "ecg-monitor",
                "Alarms",
                "AlarmsTestSupport",
                "Model",
                "Monitor",
                "Producers",
                "Stream",
                "Systemd",
                "TestSupport",
                argumentParser,
                logging,
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
