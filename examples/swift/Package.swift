// swift-tools-version:5.5
// Swift programs using MediaCore's C ABI through its Clang module (include/module.modulemap,
// linked to here as the system library target MediaCore): mediacore-version, and
// mediacore-story (a user and token, a chat message seen as an event, two calls over
// 127.0.0.1 with WAV in and out; see the top-level README.md). Build against the release
// library:
//   cargo build --release -p mediacore-ffi
//   swift build -Xlinker -L../../target/release -Xlinker -rpath -Xlinker ../../target/release
import PackageDescription

let package = Package(
    name: "MediaCoreExample",
    targets: [
        // module.modulemap and mediacore.h here are links to ../../include: one header.
        .systemLibrary(name: "MediaCore", path: "Sources/MediaCore"),
        .executableTarget(name: "mediacore-version", dependencies: ["MediaCore"]),
        .executableTarget(name: "mediacore-story", dependencies: ["MediaCore"]),
    ]
)
