import DoctorModel
import Foundation

/// Paths into the repository: lab captures live in examples/, kernel samples beside the tests.
enum Repo {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func example(_ scenario: String, _ side: String, _ file: String) -> String {
        "\(root)/examples/\(scenario)/\(side)/\(file)"
    }

    static func kernelSample(_ file: String) -> String {
        "\(root)/Tests/DoctorParseTests/Fixtures/kernel-reference/\(file)"
    }

    static func doc(_ path: String, _ kind: InputKind? = nil) -> RawDocument {
        RawDocument(name: path, content: .file(path: path), kind: kind)
    }
}
