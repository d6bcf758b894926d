// swift-tools-version:6.0
// The pipeline is the module graph: collect -> parse -> model -> rules -> report, and DoctorCore over them.
import PackageDescription

let package = Package(
    name: "ipsec-doctor",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ipsec-doctor", targets: ["ipsec-doctor"]),
        .library(name: "DoctorRules", targets: ["DoctorRules"]),
        // The whole pipeline (diagnose, compare) for other programs; the CLI is a thin shell over it.
        .library(name: "DoctorCore", targets: ["DoctorCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Pure domain types: SPD, SAD, Child SA, findings. No I/O.
        .target(name: "DoctorModel"),
        // Reading the outside world (commands with timeouts, files, snapshot directories) into raw documents.
        .target(name: "DoctorCollect", dependencies: ["DoctorModel"]),
        // Raw documents -> model, keeping file:line for evidence.
        .target(name: "DoctorParse", dependencies: ["DoctorModel"]),
        // The rule catalog and the engine that ranks root causes.
        .target(name: "DoctorRules", dependencies: ["DoctorModel"]),
        // Text and JSON renderings of a diagnosis.
        .target(name: "DoctorReport", dependencies: ["DoctorModel", "DoctorRules"]),
        // The pipeline as a library: inputs in, a Diagnosis or a comparison out.
        .target(name: "DoctorCore", dependencies: ["DoctorModel", "DoctorCollect", "DoctorParse", "DoctorRules", "DoctorReport"]),
        .executableTarget(
            name: "ipsec-doctor",
            dependencies: [
                "DoctorCore", "DoctorModel", "DoctorCollect", "DoctorParse", "DoctorRules", "DoctorReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The whole pipeline under libFuzzer (scripts/fuzz builds it with -sanitize=fuzzer -DFUZZING); built
        // plainly it replays a corpus through the same oracles.
        .target(name: "CLibFuzzer"),
        .executableTarget(
            name: "ipsec-doctor-fuzz",
            dependencies: ["DoctorCore", "DoctorModel", "DoctorCollect", "DoctorParse", "DoctorRules", "DoctorReport", "CLibFuzzer"]
        ),
        .testTarget(
            name: "DoctorParseTests", dependencies: ["DoctorParse", "DoctorCollect", "DoctorModel"], exclude: ["Fixtures"]),
        .testTarget(
            name: "DoctorRulesTests",
            dependencies: ["DoctorCore", "DoctorRules", "DoctorParse", "DoctorCollect", "DoctorModel", "DoctorReport"]
        ),
        .testTarget(name: "EndToEndTests", dependencies: ["DoctorModel"]),
    ]
)
