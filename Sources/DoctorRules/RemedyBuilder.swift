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

    /// The command that re-reads config and brings the connection up (4.x and 5.x spellings).
    public static func restart(_ conn: String, end: End) -> RemedyStep {
        .command(end, "Reload the connection and bring it up", "ipsec auto --replace \(conn) && ipsec auto --up \(conn)")
    }
}

