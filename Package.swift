// swift-tools-version:6.1
import PackageDescription

// Settings every target shares, set once here (as hummingbird does).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Tests keep ExistentialAny but not MemberImportVisibility: test code imports what it exercises, not every
// module that declares an extension it happens to call.
let testSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "market-data-platform",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "TickerService", targets: ["TickerService"]),
        .executable(name: "BackendService", targets: ["BackendService"]),
        .executable(name: "BrokerSimulator", targets: ["BrokerSimulator"]),
        .executable(name: "Benchmarks", targets: ["Benchmarks"]),
        .library(name: "Shared", targets: ["Shared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        // MARK: C libraries (system modules)
        .systemLibrary(
            name: "CHiredis",
            path: "Shared/CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            path: "Shared/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),

        // MARK: Shared libraries
        // Small helpers every other library uses (backoff, civil dates, redaction); standard library only.
        .target(
            name: "SharedBasics",
            dependencies: [],
            path: "Shared/Basics",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SharedRedis",
            dependencies: [
                "CHiredis",
                "SharedBasics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/Redis",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SharedPostgres",
            dependencies: [
                "CLibPQ",
                "SharedBasics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/Postgres",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SharedJSON",
            dependencies: [],
            path: "Shared/JSON",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BrokerWire",
            dependencies: ["SharedBasics", "SharedJSON"],
            path: "Shared/BrokerWire",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Shared",
            dependencies: [
                "SharedBasics",
                "SharedJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Shared/Core",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "Shared",
                "SharedBasics",
                "SharedRedis",
                "SharedPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ServiceRuntime",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SharedInstruments",
            dependencies: ["SharedPostgres"],
            path: "Shared/Instruments",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TickerAPIModel",
            dependencies: [
                "Shared",
                "BrokerWire",
                "ServiceRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Shared/TickerAPIModel",
            swiftSettings: swiftSettings
        ),

        // MARK: Services
        .executableTarget(
            name: "TickerService",
            dependencies: [
                "Shared",
                "SharedJSON",
                "BrokerWire",
                "ServiceRuntime",
                "SharedBasics",
                "SharedRedis",
                "SharedPostgres",
                "SharedInstruments",
                "TickerAPIModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Services/TickerService",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BackendService",
            dependencies: [
                "Shared",
                "SharedJSON",
                "BrokerWire",
                "ServiceRuntime",
                "SharedBasics",
                "SharedRedis",
                "SharedPostgres",
                "SharedInstruments",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Services/BackendService",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BrokerSimulator",
            dependencies: [
                "Shared",
                "ServiceRuntime",
                "BrokerWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Services/BrokerSimulator",
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (`make bench`, release build)
        .executableTarget(
            name: "Benchmarks",
            dependencies: [
                "Shared",
                "SharedRedis",
                "SharedPostgres",
                "BrokerWire",
                "TestSupport",
                "ServiceRuntime",
                "TickerAPIModel",
                "WireFixtures",
                "SharedInstruments",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "WireFixtures",
            dependencies: ["BrokerWire"],
            path: "Tests/WireFixtures",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "Shared",
                "SharedRedis",
                "SharedPostgres",
                "BrokerWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SharedBasicsTests",
            dependencies: ["SharedBasics", "WireFixtures"],
            path: "Tests/SharedBasicsTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: ["Shared", "SharedBasics", .product(name: "Logging", package: "swift-log")],
            path: "Tests/SharedTests",
            resources: [.copy("Fixtures")],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: ["SharedRedis", "TestSupport"],
            path: "Tests/RedisTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["SharedPostgres", "TestSupport"],
            path: "Tests/PostgresTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "ServiceRuntimeTests",
            dependencies: [
                "ServiceRuntime",
                "SharedBasics",
                "SharedRedis",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ServiceRuntimeTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "InstrumentsTests",
            dependencies: ["SharedInstruments", "SharedPostgres", "Shared", "TestSupport"],
            path: "Tests/InstrumentsTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "BrokerWireTests",
            dependencies: ["BrokerWire", "TestSupport", "WireFixtures"],
            path: "Tests/BrokerWireTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "BrokerSimulatorTests",
            dependencies: [
                "BrokerSimulator",
                "BrokerWire",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            path: "Tests/BrokerSimulatorTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "TickerServiceTests",
            dependencies: [
                "TickerService",
                "TickerAPIModel",
                "ServiceRuntime",
                "SharedInstruments",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/TickerServiceTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "BackendServiceTests",
            dependencies: [
                "BackendService",
                "ServiceRuntime",
                "SharedInstruments",
                "BrokerWire",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/BackendServiceTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Shared",
                "SharedRedis",
                "SharedPostgres",
                "BrokerWire",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/IntegrationTests",
            swiftSettings: testSwiftSettings
        ),
    ]
)
