// swift-tools-version:6.0
// ConnectorKit: the one API that connector modules and the daemon share. It is built as a single
// dynamic library so that exactly one copy of its types lives in the daemon's process; a module
// that linked its own copy would fail every `as?` cast across the dlopen boundary.
import PackageDescription

let package = Package(
    name: "ConnectorKit",
    products: [
        .library(name: "ConnectorKit", type: .dynamic, targets: ["ConnectorKit"]),
    ],
    targets: [
        .target(name: "ConnectorKit"),
    ],
    swiftLanguageModes: [.v6]
)
