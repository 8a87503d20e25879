// swift-tools-version:6.0
// Steward: a school district's daemon for sharing roster data with the partners it authorized.
// The module layout follows shared/DESIGN.md; no third-party Swift packages are used.
import PackageDescription

/// Installed executables find libConnectorKit.so in /usr/lib/steward (DESIGN.md, "Connector modules").
let installedRunPath: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../lib/steward"]),
]

let package = Package(
    name: "Steward",
    products: [
        .executable(name: "stewardd", targets: ["stewardd"]),
        .executable(name: "stewardctl", targets: ["stewardctl"]),
        .executable(name: "steward-bench", targets: ["steward-bench"]),
        .executable(name: "steward-dev", targets: ["steward-dev"]),
        .executable(name: "steward-gen", targets: ["steward-gen"]),
        // Connector modules: each is a dynamic library that stewardd loads with dlopen.
        .library(name: "ProbeConnector", type: .dynamic, targets: ["ProbeConnector"]),
        .library(name: "OneRosterConnector", type: .dynamic, targets: ["OneRosterConnector"]),
        .library(name: "CleverConnector", type: .dynamic, targets: ["CleverConnector"]),
    ],
    dependencies: [
        .package(path: "Plugins/ConnectorKit"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        .target(name: "StewardCore"),
        // The one EINTR-retrying system-call wrapper, and Unix socket addresses; Glibc only.
        .target(name: "StewardSystem"),
        .target(name: "StewardCrypto", dependencies: ["COpenSSL"]),
        .target(name: "StewardStore", dependencies: ["StewardCore", "StewardCrypto", "CSQLite"]),
        .target(name: "StewardTLS", dependencies: ["COpenSSL", "StewardSystem"]),
        .target(name: "StewardControl", dependencies: ["StewardCore", "StewardSystem"]),
        // Roster ingest: drops (folders and zip files), validation, applying a drop to the store.
        .target(name: "StewardIngest", dependencies: ["StewardCore", "StewardStore", "StewardCrypto", "StewardSystem", "CZlib"]),
        .target(
            name: "StewardDaemon",
            dependencies: [
                "StewardCore", "StewardCrypto", "StewardStore", "StewardTLS", "StewardControl", "StewardIngest",
                .product(name: "ConnectorKit", package: "ConnectorKit"),
            ]
        ),

        .executableTarget(name: "stewardd", dependencies: ["StewardDaemon"], linkerSettings: installedRunPath),
        .executableTarget(name: "stewardctl", dependencies: ["StewardControl"], linkerSettings: installedRunPath),
        .executableTarget(name: "steward-bench", dependencies: ["StewardHarness", "StewardControl", "StewardTLS", "StewardStore", "StewardCrypto"]),
        // Starts the real stewardd in a scratch folder and listens to it as systemd would; shared by
        // the integration tests and the benchmark.
        .target(name: "StewardHarness", dependencies: ["StewardControl"]),
        .executableTarget(name: "steward-dev", dependencies: ["StewardCore"]),
        // Writes a deterministic synthetic district as OneRoster CSV, optionally with real-world defects.
        .executableTarget(name: "steward-gen", dependencies: ["StewardCore"]),

        .target(
            name: "ProbeConnector",
            dependencies: [.product(name: "ConnectorKit", package: "ConnectorKit")],
            path: "Plugins/ProbeConnector"
        ),
        .target(
            name: "OneRosterConnector",
            dependencies: [.product(name: "ConnectorKit", package: "ConnectorKit")],
            path: "Plugins/OneRosterConnector"
        ),
        .target(
            name: "CleverConnector",
            dependencies: [.product(name: "ConnectorKit", package: "ConnectorKit")],
            path: "Plugins/CleverConnector"
        ),

        .testTarget(name: "StewardCoreTests", dependencies: ["StewardCore"]),
        .testTarget(name: "StewardStoreTests", dependencies: ["StewardStore", "StewardCrypto", "StewardHarness"]),
        .testTarget(name: "StewardTLSTests", dependencies: ["StewardTLS", "StewardHarness", "StewardCore", "StewardDaemon"]),
        .testTarget(name: "StewardIngestTests", dependencies: ["StewardIngest", "StewardCore", "StewardStore", "StewardHarness"]),
        .testTarget(
            name: "StewardDaemonTests",
            dependencies: ["StewardDaemon", "StewardHarness", .product(name: "ConnectorKit", package: "ConnectorKit"), "OneRosterConnector",
                           "ConnectorTestSupport"]
        ),
        // The Clever module's tests load the built library with dlopen, as the daemon does: every
        // module defines the entry point `steward_connector_module`, so only one may be linked in.
        .testTarget(
            name: "CleverConnectorTests",
            dependencies: ["ConnectorTestSupport", "StewardDaemon", "StewardHarness",
                           .product(name: "ConnectorKit", package: "ConnectorKit")]
        ),
        // A view and a disclosure recorder held in memory, for the connector modules' unit tests.
        .target(
            name: "ConnectorTestSupport",
            dependencies: [.product(name: "ConnectorKit", package: "ConnectorKit")],
            path: "Tests/ConnectorTestSupport"
        ),
        .testTarget(name: "IntegrationTests", dependencies: ["StewardHarness", "StewardControl", "StewardCore"]),
    ],
    swiftLanguageModes: [.v6]
)
