import DoctorModel

/// Runs every rule and orders the result: per connection, the most likely
/// root cause first with its symptoms attached, then other causes.
public struct DiagnosisEngine {
    public static let rules: [any Rule.Type] = RuleCatalog.all

    public init() {}

    /// What the engine found, and the rules it could not run for want of an input.
    public struct Result: Sendable {
        public var findings: [Finding]
        public var notChecked: [NotChecked]
    }

    public func diagnose(_ context: DiagnosisContext) -> [Finding] { run(context).findings }

    public func run(_ context: DiagnosisContext) -> Result {
        var findings = Self.evaluate(context)
        if let peer = context.peer {
            findings += Self.peerSideFindings(context, peer: peer, alreadyFound: findings)
        }
        if let f = context.connectionFilter { findings = findings.filter { $0.connection == nil || $0.connection == f } }
        let skipped = context.local.skipped + (context.peer?.skipped ?? [])
        let notChecked = Self.rules.compactMap { rule -> NotChecked? in
            let missing = Self.unmet(rule, read: context.inputKindsRead)
            return missing.isEmpty ? nil : NotChecked(code: rule.code, missing: missing, skipped: skipped)
        }
        return Result(findings: Self.rank(findings), notChecked: notChecked)
    }

    static func evaluate(_ context: DiagnosisContext) -> [Finding] {
        let read = context.inputKindsRead
        return rules.filter { unmet($0, read: read).isEmpty }.flatMap { $0.init().evaluate(context) }
    }

    /// The rule's needs that none of the kinds READ (both ends' captures) meets.
    static func unmet(_ rule: any Rule.Type, read: Set<InputKind>) -> [InputNeed] {
        rule.needs.filter { need in !need.kinds.contains(where: read.contains) }
    }

    /// Problems of the other end itself (its daemon, kernel, firewall, counters), seen from its own
    /// capture. Codes already found for the connection are not repeated; `tunnel-down` is implied.
    static func peerSideFindings(_ context: DiagnosisContext, peer: EndpointSnapshot, alreadyFound: [Finding]) -> [Finding] {
        let reversed = DiagnosisContext(local: peer, peer: context.local)
        // The peer may name the tunnel differently: report under this end's name.
        var localName: [String: String] = [:]
        for name in context.connectionNames { if let pc = context.peerConfig(name) { localName[pc.name] = name } }
        let known = Set(alreadyFound.map { "\($0.code)|\($0.connection ?? "")" })
        return evaluate(reversed).compactMap { f -> Finding? in
            guard f.code != .tunnelDown else { return nil }
            var f = f
            f.connection = f.connection.map { localName[$0] ?? $0 }
            guard !known.contains("\(f.code)|\(f.connection ?? "")") else { return nil }
            f.side = "peer"
            f.title = "On \(peer.label): " + f.title
            f.remedy = Remedy(summary: f.remedy.summary, steps: f.remedy.steps.map { step in
                var s = step
                s.end = step.end == .local ? .peer : step.end == .peer ? .local : .both
                return s
            })
            return f
        }
    }

    /// Groups by connection, picks the root cause, attaches symptoms.
    public static func rank(_ all: [Finding]) -> [Finding] {
        let order: (Finding, Finding) -> Bool = { ($0.severity, $0.stage, $0.code) < ($1.severity, $1.stage, $1.code) }
        var byConn: [String?: [Finding]] = [:]
        var connOrder: [String?] = []
        for f in all {
            if byConn[f.connection] == nil { connOrder.append(f.connection) }
            byConn[f.connection, default: []].append(f)
        }
        // Host-wide findings (xfrm_stat) that are symptoms join the only connection that has a root cause.
        let hostWide = byConn[nil] ?? []
        let connsWithErrors = connOrder.compactMap { $0 }.filter { c in byConn[c]?.contains { $0.severity == .error } == true }
        if connsWithErrors.count == 1, let target = connsWithErrors.first {
            byConn[target, default: []] += hostWide.filter(\.isSymptom)
            byConn[nil] = hostWide.filter { !$0.isSymptom }
        }
        var groups: [[Finding]] = []
        for c in connOrder {
            guard let fs = byConn[c], !fs.isEmpty else { continue }
            let causes = fs.filter { !$0.isSymptom }.sorted(by: order)
            var symptoms = fs.filter(\.isSymptom).sorted(by: order)
            var group: [Finding] = []
            if var root = causes.first {
                // Causes the root explains are its consequences, not rival explanations.
                let explained = RuleCatalog.explains[root.code] ?? []
                let rest = causes.dropFirst().filter { !explained.contains($0.code) }
                let consequences = causes.dropFirst().filter { explained.contains($0.code) }.map { f -> Finding in
                    var f = f
                    f.isSymptom = true
                    return f
                }
                root.symptoms = (consequences + symptoms).sorted(by: order)
                symptoms = []
                group = [root] + rest
            } else if var root = symptoms.first {
                // Nothing found explains it: it leads, and is no one's symptom (a consumer that drops
                // symptoms must not drop the only finding).
                root.isSymptom = false
                root.symptoms = Array(symptoms.dropFirst())
                group = [root]
            }
            groups.append(group)
        }
        groups.sort { a, b in
            guard let x = a.first, let y = b.first else { return false }
            return order(x, y)
        }
        return groups.flatMap { $0 }
    }
}
