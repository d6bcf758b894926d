import DoctorModel

/// One end's PSK entries of ipsec.secrets, indexed by ID: which entry authenticates a connection's pair of
/// IDs is one lookup, not a scan (a hub holds one entry per tunnel: a scan per connection was quadratic).
///
/// The choice is ipsec.secrets(5)'s: the first entry naming both IDs, else the first that matches at all
/// (one of the IDs, `%any`, or no IDs).
struct PSKIndex {
    private let entries: [SecretEntry]
    private let byID: [String: [Int]]
    /// Entries that can match any pair: no IDs, or `%any`/`%any6` among them.
    private let wildcard: [Int]

    init(_ secrets: [SecretEntry]?) {
        entries = (secrets ?? []).filter { $0.kind == "PSK" }
        var byID: [String: [Int]] = [:]
        var wildcard: [Int] = []
        for (i, e) in entries.enumerated() {
            if e.ids.isEmpty || e.ids.contains("%any") || e.ids.contains("%any6") { wildcard.append(i) }
            for id in Set(e.ids) { byID[id, default: []].append(i) }
        }
        self.byID = byID
        self.wildcard = wildcard
    }

    /// The entry for CONN's (local ID, remote ID), its addresses standing in for IDs it does not set.
    func entry(for conn: ConnectionConfig?) -> SecretEntry? {
        entry(conn?.local("id")?.value ?? conn?.local("")?.value, conn?.remote("id")?.value ?? conn?.remote("")?.value)
    }

    /// The same for the model of a connection (its IDs are already its addresses where unset).
    func entry(for conn: EffectiveConnection?) -> SecretEntry? { entry(conn?.local.id?.value, conn?.remote.id?.value) }

    private func entry(_ a: String?, _ b: String?) -> SecretEntry? {
        guard !entries.isEmpty else { return nil }
        let candidates = Set([a, b].compactMap { $0 }.flatMap { byID[$0] ?? [] } + wildcard).sorted().map { entries[$0] }
        return candidates.first { $0.matches(a, b) && $0.ids.count > 1 } ?? candidates.first { $0.matches(a, b) }
    }
}
