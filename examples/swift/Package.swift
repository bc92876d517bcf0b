// swift-tools-version:5.5
// A Swift program using MediaCore's C ABI through its Clang module (include/module.modulemap,
// linked to here as the system library target MediaCore). Build against the release library:
//   cargo build --release -p mediacore-ffi
//   swift build -Xlinker -L../../target/release -Xlinker -rpath -Xlinker ../../target/release
import PackageDescription

let package = Package(
    name: "MediaCoreExample",
    targets: [
        // module.modulemap and mediacore.h here are links to ../../include: one header.
        .systemLibrary(name: "MediaCore", path: "Sources/MediaCore"),
        .executableTarget(name: "mediacore-version", dependencies: ["MediaCore"]),
    ]
)
