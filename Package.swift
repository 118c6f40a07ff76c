// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Azalia",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "azalia", targets: ["azalia"]),
        .library(name: "Azalia", targets: ["Azalia"]),
        // libazalia: the bus for C function drivers (include/hdaudio.h, wdm.h, azalia.h).
        .library(name: "azalia-c", type: .dynamic, targets: ["AzaliaC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The vocabulary: formats, statuses, register map, link arithmetic. No state.
        .target(name: "HDAudio", swiftSettings: strict),
        // The virtual controller: register file, stream engines, guest memory, link clock.
        .target(name: "HDAController", dependencies: ["HDAudio"], swiftSettings: strict),
        // Virtual codecs on the link, sample sinks and sources.
        .target(name: "HDACodec", dependencies: ["HDAudio"], swiftSettings: strict),
        // The bus driver's DDI, written against a platform protocol (registers only).
        .target(name: "HDAudioBus", dependencies: ["HDAudio"], swiftSettings: strict),
        // Wiring: systems built from profiles; playback, capture, benchmarks.
        .target(name: "Azalia", dependencies: ["HDAudio", "HDAController", "HDACodec", "HDAudioBus"], swiftSettings: strict),
        // Azalia's controller and codecs as a PCI function in a QEMU guest (multi-process protocol).
        .target(name: "GuestBridge", dependencies: ["HDAudio", "HDAController", "HDACodec"], swiftSettings: strict),
        // hdaudio.h, the WDM subset and the KEVENT routines; AzaliaC exports the rest to C.
        .target(name: "CAzalia"),
        .target(name: "AzaliaC", dependencies: ["CAzalia", "Azalia", "HDAudio", "HDAController", "HDACodec", "HDAudioBus"], swiftSettings: strict),
        .executableTarget(
            name: "azalia",
            dependencies: ["Azalia", "GuestBridge", "HDAudio", "HDAController", "HDACodec", "HDAudioBus", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        // libFuzzer targets (README, Reliability): swift build --sanitize=fuzzer -Xswiftc -DFUZZING --product FuzzWAV;
        // without the flags each builds to a program that tries the input files it is given.
        .executableTarget(name: "FuzzWAV", dependencies: ["Azalia"], swiftSettings: strict),
        .executableTarget(name: "FuzzGuest", dependencies: ["Azalia"], swiftSettings: strict),
        .executableTarget(name: "FuzzDDI", dependencies: ["Azalia"], swiftSettings: strict),
        // What the test targets share: the seeded generator, test codecs, external tools, bus test helpers.
        .target(name: "TestSupport", dependencies: ["HDAudio", "HDAudioBus"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "HDAudioTests", dependencies: ["HDAudio", "TestSupport"]),
        .testTarget(name: "HDAControllerTests", dependencies: ["HDAController", "HDAudio", "TestSupport"]),
        .testTarget(name: "HDACodecTests", dependencies: ["HDACodec", "HDAudio", "TestSupport"]),
        // The bus alone, against a fake platform: no controller model behind the registers.
        .testTarget(name: "HDAudioBusUnitTests", dependencies: ["HDAudioBus", "HDAudio", "TestSupport"]),
        .testTarget(name: "HDAudioBusTests", dependencies: ["HDAudioBus", "HDAController", "HDAudio", "Azalia", "TestSupport"]),
        .testTarget(name: "GuestBridgeTests", dependencies: ["GuestBridge", "HDAController", "HDACodec", "HDAudio"]),
        // C tests of libazalia, built with the system C compiler and run.
        .testTarget(name: "CDriverTests", dependencies: ["AzaliaC", "HDACodec"], exclude: ["C", "sanitize.sh"]),
        .testTarget(name: "AzaliaTests", dependencies: ["Azalia", "azalia", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
