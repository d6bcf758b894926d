import DoctorModel
import Foundation

/// Libreswan algorithm proposals (`ike=`, `esp=`/`phase2alg=`) and what to propose when they disagree.
enum Proposals {
    /// Libreswan 4.x/5.x defaults, written as config values (the value an end without the key effectively offers).
    static let defaultIKE = "aes_gcm256-sha2_512;modp2048"
    static let defaultESP = "aes_gcm256"

    /// A value both ends can be set to. When one end uses defaults, align to the explicit end's first
    /// proposal only if it is strong; otherwise use a strong common value.
    static func common(local: String?, peer: String?, phase1: Bool) -> String {
        let strong = phase1 ? "aes256-sha2_256;dh19" : "aes256-sha2_256"
        for candidate in [local, peer].compactMap({ $0 }) {
            let first = candidate.split(separator: ",").first.map(String.init) ?? candidate
            if isStrong(first) { return first }
        }
        return strong
    }

    static func isStrong(_ p: String) -> Bool {
        let l = p.lowercased()
        let weak = ["3des", "des-", "md5", "modp1024", "modp1536", "sha1", "null"]
        return (l.contains("aes") || l.contains("chacha")) && !weak.contains { l.contains($0) }
    }
}
