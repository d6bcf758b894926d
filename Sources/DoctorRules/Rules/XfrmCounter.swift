import DoctorModel
import Foundation

/// A /proc/net/xfrm_stat counter that is rising (or non-zero where it never should be).
struct XfrmCounter: Rule {
    /// The counters that are not zero, as a shell command (inside `watch '...'`): the separator is a tab,
    /// so `grep -v " 0$"` would filter nothing; awk splits on any blank.
    static let nonZeroCounters = "awk \"\\$2 != 0\" /proc/net/xfrm_stat"

    static let code: FindingCode = .xfrmCounter
    static let stage: Stage = .counters
    static let needs: [InputNeed] = [.counters]
    static let summary = "A /proc/net/xfrm_stat counter is rising or non-zero: its meaning, its delta between samples and the likely cause."
    static let examples: [RuleExample] = [
        .triggering("xfrm-out-polblock", cites: "XfrmOutPolBlock"),
        .triggering("missing-sa", cites: "XfrmInNoStates"),
        .nonTriggering("healthy"),
        .nonTriggering("ikev2-psk-mismatch"),
    ]

    /// Meaning and likely cause (kernel reference §1.4/§1.6). `normalSmall`: non-zero but flat is not an error.
    static let counters: [String: (meaning: String, cause: String, normalSmall: Bool)] = [
        "XfrmInError": ("inbound errors not matched by others", "memory pressure or ESP-in-TCP framing errors", false),
        "XfrmInBufferError": ("no buffer left: too many nested SAs", "pathological nesting or offload errors", false),
        "XfrmInHdrError": ("malformed ESP/AH header", "truncated packets, scanners, broken middleboxes", true),
        "XfrmInNoStates": ("no SA for the inbound SPI/address/protocol", "the peer uses an SA this end no longer has (deleted or stale SA, peer rebooted, SPI mismatch, NAT'd destination)", true),
        "XfrmInStateProtoError": ("decryption/integrity check failed", "the two ends use different keys or algorithms for this SA, or corruption in transit", false),
        "XfrmInStateModeError": ("packet does not fit the SA's mode", "tunnel vs transport mode mismatch between the ends", false),
        "XfrmInStateSeqError": ("sequence number outside the replay window", "the sender reset its SA/sequence, or reordering deeper than the replay window", true),
        "XfrmInStateExpired": ("SA hit its hard byte/packet limit", "IKE did not rekey before the hard lifetime", false),
        "XfrmInStateMismatch": ("SA options do not match the packet", "NAT-T encapsulation on one end only, or the SA selector is narrower than the traffic", false),
        "XfrmInStateInvalid": ("SA found but no longer valid", "packets racing an SA deletion", true),
        "XfrmInTmplMismatch": ("the packet did not come through the SA the inbound policy's template requires (another SA decrypted it, or it arrived in clear)", "reqid/endpoint/mode mismatch between SA and policy (several Child SAs to one peer, NAT, two IKE daemons), or the peer sending in clear (its outbound policy gone)", false),
        "XfrmInNoPols": ("decrypted packet has no in/fwd policy", "missing dir in (host) or dir fwd (gateway) policy, or a too narrow selector", false),
        "XfrmInPolBlock": ("inbound policy says block", "a drop/block policy (kill switch, failed negotiation shunt)", true),
        "XfrmInPolError": ("inbound policy lookup error", "labeled IPsec / LSM problems", false),
        "XfrmOutError": ("outbound errors not matched by others", "memory or driver issues", false),
        "XfrmOutBundleGenError": ("cannot build the output bundle", "no route to the SA's tunnel endpoint", false),
        "XfrmOutBundleCheckError": ("bundle check error", "unused since Linux 4.14", false),
        "XfrmOutNoStates": ("outbound policy matched but no SA", "the tunnel is down or still negotiating, or the template's reqid matches no SA", true),
        "XfrmOutStateProtoError": ("encryption failed", "crypto failure", false),
        "XfrmOutStateModeError": ("outer mode output failed (packet too large after encapsulation)", "MTU / unsupported mode", false),
        "XfrmOutStateSeqError": ("outbound sequence number would wrap", "no rekey before 2^32 packets and no ESN", false),
        "XfrmOutStateExpired": ("outbound SA hit its hard byte/packet limit", "IKE did not rekey in time", false),
        "XfrmOutPolBlock": ("outbound policy says block", "a block policy in the SPD discards the traffic (kill switch, stray manual policy, failed-negotiation shunt)", true),
        "XfrmOutPolDead": ("policy is dead", "unused since Linux 4.14", false),
        "XfrmOutPolError": ("outbound policy/template error", "SA in error state, memory", false),
        "XfrmFwdHdrError": ("forwarded packet cannot be routed", "malformed forwarded packets", false),
        "XfrmOutStateInvalid": ("SA in the cached bundle no longer valid", "rekey/delete races", true),
        "XfrmAcquireError": ("SA used before IKE finished (larval)", "the peer sends on an SPI still being negotiated", true),
        "XfrmOutStateDirError": ("outbound lookup found an inbound-only SA", "SA created with the wrong direction", false),
        "XfrmInStateDirError": ("inbound lookup found an outbound-only SA", "SA created with the wrong direction", false),
        "XfrmInIptfsError": ("IP-TFS payload errors", "IP-TFS loss or reordering", false),
        "XfrmOutNoQueueSpace": ("IP-TFS output queue full", "IP-TFS rate/queue sizing", false),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        guard let samples = ctx.local.xfrmStat, !samples.isEmpty else { return [] }
        let names = Set(samples.flatMap { $0.counters.keys }).sorted()
        let single = ctx.connectionNames.count == 1 ? ctx.connectionNames.first : nil
        return names.compactMap { counter in
            guard let c = samples.counter(counter), c.last > 0 else { return nil }
            let info = Self.counters[counter] ?? ("kernel xfrm counter", "see Documentation/networking/xfrm_proc.rst", false)
            let rising = (c.delta ?? 0) > 0
            // Counters that move a little in normal operation only matter while they rise.
            if !rising && info.normalSmall { return nil }
            // Flat between two samples: it happened since boot, not now; information, not a problem. One sample
            // cannot tell, so it stays a warning that asks for a second.
            let flat = c.delta == 0
            let severity: Severity = rising ? .error : flat ? .info : .warning
            let interval = Self.seconds(between: samples.first?.time, and: samples.last?.time).map { " \($0) s apart" } ?? ""
            let delta = c.delta.map { $0 == 0 ? "stayed at \(c.last) between the samples taken\(interval): those drops happened earlier, not now" : "rose by \($0) (\(c.first) -> \(c.last)) between the samples taken\(interval.isEmpty ? "" : interval)" } ?? "is \(c.last) (one sample: take a second one a few seconds later to see if it rises)"
            return Finding(
                code: Self.code, severity: severity, connection: single,
                title: "\(counter) \(rising ? "is rising (+\(c.delta ?? 0))" : flat ? "is \(c.last), not rising" : "is \(c.last)"): \(info.meaning)",
                explanation: "\(counter) counts packets the kernel dropped because: \(info.meaning). It \(delta). Likely cause: \(info.cause). Counters are per network namespace and cumulative since boot, so only a rise between samples proves a current problem.",
                evidence: c.lines + blockPolicies(counter, ctx).flatMap { $0.lines.prefix(2) },
                remedy: Remedy(summary: remedy(counter), steps: steps(counter, ctx)),
                stage: Self.stage, isSymptom: true)
        }
    }

    /// Seconds between two `# <ISO-8601>` sample headers.
    static func seconds(between a: String?, and b: String?) -> Int? {
        let f = ISO8601DateFormatter()
        guard let a, let b, let da = f.date(from: a), let db = f.date(from: b) else { return nil }
        return Int(db.timeIntervalSince(da).rounded())
    }

    func remedy(_ counter: String) -> String {
        switch counter {
        case "XfrmOutPolBlock", "XfrmInPolBlock": "Find and remove the block policy that matches the traffic (or bring up the tunnel it is holding for)."
        case "XfrmInNoStates", "XfrmOutNoStates": "Re-establish the Child SA so both ends use the same, current SAs."
        case "XfrmInTmplMismatch": "Make the inbound policy's template and the SA agree (reqid, endpoints, mode)."
        case "XfrmInNoPols": "Re-install the in/fwd policies (re-establish the connection)."
        default: "Compare the SAs and policies of both ends; see the counter's likely cause."
        }
    }

    /// The SPD's block policies in the counter's direction.
    func blockPolicies(_ counter: String, _ ctx: DiagnosisContext) -> [XfrmPolicy] {
        guard counter == "XfrmOutPolBlock" || counter == "XfrmInPolBlock" else { return [] }
        let dirs: [PolicyDirection] = counter == "XfrmOutPolBlock" ? [.out] : [.in, .fwd]
        return (ctx.local.policies ?? []).filter { $0.action == "block" && dirs.contains($0.direction) }
    }

    func steps(_ counter: String, _ ctx: DiagnosisContext) -> [RemedyStep] {
        switch counter {
        case "XfrmOutPolBlock", "XfrmInPolBlock":
            let found = blockPolicies(counter, ctx)
            if found.isEmpty {
                return [.check(.local, "List block policies with their selectors", "ip xfrm policy | grep -B1 -A1 'action block'")]
            }
            return found.map { p in
                let proto = p.upperProto.map { " proto \($0)" } ?? ""
                return .command(.local, "Delete the block policy \(p.src) -> \(p.dst) (unless it is an intended kill switch)",
                                "ip xfrm policy delete src \(p.src) dst \(p.dst)\(proto) dir \(p.direction.rawValue)")
            }
        default:
            return [.check(.local, "Watch the counter while reproducing", "watch -n1 '\(Self.nonZeroCounters)'"),
                    .check(.local, "Show SAs and policies with their reqids", "ip -s xfrm state; ip -s xfrm policy")]
        }
    }
}
