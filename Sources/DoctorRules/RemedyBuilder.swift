import DoctorModel
import Foundation

/// Helpers that write remedy steps as exact config lines.
public enum RemedyBuilder {
    /// Replace (or add) `key=value` in a connection; shows the old line to remove.
    public static func setKey(
        _ key: String, to value: String, in conn: ConnectionConfig?, connectionName: String, end: End, why: String
    ) -> RemedyStep {
        let existing = conn?[key]
        let remove = existing.map { [$0.source.text.trimmingCharacters(in: .whitespaces)] } ?? []
        let file = existing?.source.file ?? conn?.header.file
        return .config(end, why, file: file, connection: connectionName, remove: remove, add: ["\(key)=\(value)"])
    }

    /// Remove a key (its default applies).
    public static func removeKey(_ key: String, in conn: ConnectionConfig, end: End, why: String) -> RemedyStep? {
        guard let existing = conn[key] else { return nil }
        return .config(end, why, file: existing.source.file, connection: conn.name,
                       remove: [existing.source.text.trimmingCharacters(in: .whitespaces)], add: [])
    }


    /// An ID changed in ipsec.conf also changes which ipsec.secrets entry pluto picks: the entry keyed by the
    /// old ID gets the new one (the secret itself untouched, shown as a placeholder). Nothing when the
    /// connection uses no PSK or no entry names the old ID.
    static func rekeyedSecret(_ psks: PSKIndex, _ cfg: ConnectionConfig, from old: String, to new: String, end: End) -> [RemedyStep] {
        guard cfg.usesPSK, let entry = psks.entry(for: cfg), entry.ids.contains(old) else { return [] }
        let line = entry.source.text.trimmingCharacters(in: .whitespaces)
        guard let colon = line.range(of: " :") else { return [] }
        let ids = line[..<colon.lowerBound].split(separator: " ").map { $0 == old ? new : String($0) }.joined(separator: " ")
        return [.config(end, "Key the secret by the new ID in ipsec.secrets (the secret itself unchanged)", file: entry.source.file, connection: nil,
                        remove: [line], add: [ids + line[colon.lowerBound...].replacingOccurrences(of: "<redacted>", with: "<its secret, unchanged>")])]
    }
}

/// The `ipsec` commands in the spelling of the Libreswan version at hand: 3.x and 4.x take
/// `ipsec auto --up NAME`; 5.x deprecates `ipsec auto` for `ipsec up NAME` (and `ipsec add` replaces).
public struct IpsecCLI: Sendable {
    /// Libreswan 5.0 or later.
    public let modern: Bool

    /// `version` as the snapshot holds it (`Libreswan 5.2`, `Libreswan U4.10/K6.1...`); unknown reads as 4.x.
    public init(version: String?) {
        modern = LibreswanAdapter.major(version) >= 5
    }

    /// A fragment's stand-in name (`peer 192.0.2.2`, `unknown connection`) is no conn name: a placeholder.
    func arg(_ conn: String) -> String { conn.contains(" ") ? "<connection>" : conn }

    public func up(_ conn: String) -> String { modern ? "ipsec up \(arg(conn))" : "ipsec auto --up \(arg(conn))" }
    public func down(_ conn: String) -> String { modern ? "ipsec down \(arg(conn))" : "ipsec auto --down \(arg(conn))" }
    public func replace(_ conn: String) -> String { modern ? "ipsec add \(arg(conn))" : "ipsec auto --replace \(arg(conn))" }
    public var rereadSecrets: String { modern ? "ipsec rereadsecrets" : "ipsec auto --rereadsecrets" }
    public var listAll: String { modern ? "ipsec listall" : "ipsec auto --listall" }

    /// The command that re-reads config and brings the connection up.
    public func restart(_ conn: String, end: End) -> RemedyStep {
        .command(end, "Reload the connection and bring it up", "\(replace(conn)) && \(up(conn))")
    }
}
