import DoctorModel
import Foundation

/// Parses ipsec.secrets. The secret itself is reduced to a fingerprint at once:
/// enough to tell whether both ends hold the same PSK, useless to anyone else.
///
/// Input (a real lab file; the value is a throwaway):
///
///     @west @east : PSK "lab-psk-...-west-east"
///     : PSK "default for any peer"
///     include /etc/ipsec.d/*.secrets
public enum SecretsParser {
    public static func parse(_ document: RawDocument) -> ([SecretEntry], [InputDiagnostic]) {
        var entries: [SecretEntry] = []
        var diags: [InputDiagnostic] = []
        let lines: [(Int, String)]
        do { lines = try LineSource(document).allRawLines() } catch {
            return ([], [InputDiagnostic(file: document.name, line: nil, message: "\(error)")])
        }
        var inBraces = false
        for (n, raw) in lines {
            let t = raw.trimmingCharacters(in: .whitespaces)
            if inBraces {
                if t.contains("}") { inBraces = false }
                continue
            }
            if t.isEmpty || t.hasPrefix("#") || t.hasPrefix("include ") { continue }
            let source = SourceLine(file: document.name, line: n, text: Redactor.redact(Substring(raw), known: document.knownSecrets))
            // The colon before the type (an IPv6 ID has colons of its own).
            let typed = t.indices.first { t[$0] == ":" && LineRedactor.secretKinds.contains(t[t.index(after: $0)...].drop(while: \.isWhitespace).prefix(while: \.isLetter).uppercased()) }
            guard let colon = typed ?? t.firstIndex(of: ":") else {
                diags.append(InputDiagnostic(file: document.name, line: n, message: "cannot parse secrets line: expected 'IDs : TYPE secret'"))
                continue
            }
            let ids = t[..<colon].split(whereSeparator: { $0 == " " || $0 == "\t" }).map {
                Redactor.redact(Substring($0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))), known: document.knownSecrets)  // an ID of key hex, too
            }
            let rest = t[t.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let kind = String(rest.prefix(while: \.isLetter))
            // A known type, then a blank, a quote, a brace or the end: anything else (`PSK7"..."`) is no entry,
            // and its line, which the redactor cannot tell from prose, is kept nowhere.
            guard LineRedactor.secretKinds.contains(kind.uppercased()),
                rest.dropFirst(kind.count).first.map({ $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "{" }) ?? true
            else {
                diags.append(InputDiagnostic(file: document.name, line: n, message: "cannot parse secrets line: expected 'IDs : TYPE secret' with TYPE one of \(LineRedactor.secretKinds.sorted().joined(separator: ", "))"))
                continue
            }
            var secret = rest.dropFirst(kind.count).trimmingCharacters(in: .whitespaces)
            if secret.hasPrefix("{") && !secret.contains("}") { inBraces = true }
            if secret.count >= 2, let f = secret.first, f == "\"" || f == "'", secret.last == f {
                secret = String(secret.dropFirst().dropLast())
            }
            let fp: UInt64? = kind.uppercased() == "PSK" ? fnv1a(secret) : nil
            entries.append(SecretEntry(ids: ids, kind: kind.uppercased(), fingerprint: fp, source: source))
        }
        return (entries, diags)
    }

    /// FNV-1a 64: a comparison fingerprint, not cryptographic; never printed.
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
