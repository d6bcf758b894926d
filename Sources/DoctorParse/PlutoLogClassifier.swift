import DoctorModel
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Classifies pluto's messages (log file, journal, `ipsec up` output) into
/// `IKEEvent`s by stable tokens, across Libreswan 3.x, 4.x and 5.x.
///
/// Real lines it reads (Libreswan 4.10, captured by scripts/lab):
///
///     003 "westnet-eastnet" #1: IKE SA authentication request rejected by peer: AUTHENTICATION_FAILED
///     Nov 23 11:01:12.862865: "westnet-eastnet" #1: authentication failed: computed hash does not match hash received from peer ID_FQDN '@west'
///     000 "westnet-eastnet" #1: ERROR: asynchronous network error report on vw (192.0.2.1:500), complainant 192.0.2.2: Connection refused [errno 111, origin ICMP type 3 code 3 (not authenticated)]
///     031 "westnet-eastnet" #2: STATE_QUICK_I1: 10 second timeout exceeded after 5 retransmits.  No acceptable response to our first Quick Mode message: perhaps peer likes no proposal
///     ERROR: "westnet-eastnet" #2: netlink response for Add SA esp.bd2ee529@192.0.2.1: Function not implemented (errno 38)
///
/// It is a streaming state machine: it remembers per connection whether the
/// IKEv1 ISAKMP SA was established, because an IKEv1 NO_PROPOSAL_CHOSEN
/// notify means "phase 1" before that and "Quick Mode" after.
public struct PlutoLogClassifier {
    var isakmpEstablished: Set<String> = []
    /// Reused buffer for the lower-cased bytes of the current line.
    var scratch: [UInt8] = []

    public init() {}

    /// Every token rule in `kind(of:)` contains at least one of these (lower case). A line with none of
    /// them cannot be classified, so it is skipped without building a String: most of a pluto log
    /// (algorithm tables, debug lines) never leaves the byte level.
    static let anchors: [[UInt8]] = [
        "network error", "ikev1", "netlink", "xfrm_msg", "proposal", "auth", "timeout", "retransmission", "dpd",
        "liveness", "invalid_", "hash", "preshared", "peer", "psk", "private key", "cert", "x509", "nss",
        "informational", "cannot respond", "no suitable", "oakley", "traffic selectors", "ts_unacceptable",
        "established", "initiating", "fatal",
    ].map { Array($0.utf8) }

    /// True when the line contains one of the anchors (ASCII case-insensitive).
    public mutating func mightMatch(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        contains(bytes, anyOf: Self.anchors)
    }

    /// Substring search: memchr(3) for the first byte, memcmp(3) for the rest.
    static func find(_ hay: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        let n = needle.count
        guard n > 0, hay.count >= n, let h = hay.baseAddress, let nd = needle.baseAddress else { return false }
        let first = Int32(nd.load(as: UInt8.self))
        var start = h
        let end = h + (hay.count - n + 1)
        while start < end {
            guard let p = memchr(start, first, end - start) else { return false }
            if memcmp(p, nd, n) == 0 { return true }
            start = UnsafeRawPointer(p) + 1
        }
        return false
    }

    /// ASCII case-insensitive search of several needles.
    mutating func contains(_ bytes: UnsafeBufferPointer<UInt8>, anyOf needles: [[UInt8]]) -> Bool {
        guard bytes.count > 0 else { return false }
        scratch.removeAll(keepingCapacity: true)
        scratch.reserveCapacity(bytes.count)
        for b in bytes { scratch.append(b >= 65 && b <= 90 ? b | 0x20 : b) }
        return scratch.withUnsafeBytes { hay in
            for needle in needles {
                if needle.withUnsafeBytes({ Self.find(hay, $0) }) { return true }
            }
            return false
        }
    }

    /// Byte-level entry point for the log hot path.
    public mutating func classify(bytes: UnsafeBufferPointer<UInt8>, file: String, line: Int) -> IKEEvent? {
        guard mightMatch(bytes) else { return nil }
        return classify(Substring(String(decoding: bytes, as: UTF8.self)), file: file, line: line)
    }

    public mutating func classify(_ raw: Substring, file: String, line: Int) -> IKEEvent? {
        let msg = LogPrefix.strip(raw)
        if msg.hasPrefix("|") || msg.isEmpty { return nil }  // debug lines
        let lower = msg.lowercased()
        guard let kind = kind(of: lower) else { return nil }
        let (conn, serial) = Self.connectionAndSerial(msg)
        var details: [String: String] = [:]
        var finalKind = kind
        let state = Self.stateName(msg)
        // `packet from 192.0.2.1:500: ...` names no connection, only the peer.
        if let r = msg.range(of: "packet from ") {
            let addr = msg[r.upperBound...].prefix(while: { $0 != " " }).dropLast(while: { $0 == ":" })
            if let colon = addr.lastIndex(of: ":"), !addr.contains("::") || addr.hasSuffix("]") {
                details["peerAddress"] = String(addr[..<colon])
            } else {
                details["peerAddress"] = String(addr)
            }
        }
        switch kind {
        case .icmpError:
            details["errno"] = Self.number(after: "errno ", in: lower)
            details["complainant"] = Self.word(after: "complainant ", in: String(msg))?.trimmingSuffix(":")
            if let r = lower.range(of: "origin icmp type ") {
                let rest = lower[r.upperBound...]
                details["icmpType"] = String(rest.prefix(while: \.isNumber))
                details["icmpCode"] = Self.number(after: "code ", in: String(rest))
            }
            if let c = msg.range(of: "complainant "), let colon = msg[c.upperBound...].range(of: ": "),
                let bracket = msg[colon.upperBound...].firstIndex(of: "[")
            {
                details["error"] = String(msg[colon.upperBound..<bracket]).trimmingCharacters(in: .whitespaces)
            }
        case .ikev1NotifyReceived:
            let notify = Self.notifyName(in: msg) ?? "?"
            details["notify"] = notify
            let secured = lower.contains("ignoring secured informational")
            let unsecured = lower.contains("unsecured informational")
            let phase2 = secured || (!unsecured && conn.map { isakmpEstablished.contains($0) } == true)
            switch notify {
            case "NO_PROPOSAL_CHOSEN": finalKind = phase2 ? .childNoProposalReceived : .ikeNoProposalReceived
            // Before the ISAKMP SA: the peer refused our identity. After: our Quick Mode selectors.
            case "INVALID_ID_INFORMATION": finalKind = phase2 ? .invalidIDReceived : .idRejectedReceived
            case "INVALID_HASH_INFORMATION": finalKind = .ikev1HashMismatch
            case "AUTHENTICATION_FAILED": finalKind = .authFailedReceived
            default: return nil
            }
        case .kernelSAInstallFailed:
            details["errno"] = Self.number(after: "errno ", in: lower)
        case .timeout, .retransmission, .authTimeout, .quickModeNoProposalTimeout:
            details["retransmits"] = Self.number(after: "after ", in: lower)
        case .ikeNoProposalLocal, .childNoProposalLocal:
            if let r = msg.range(of: "remote proposals ") { details["remoteProposals"] = String(msg[r.upperBound...]) }
            if let r = msg.range(of: "Oakley Transform [") {
                details["remoteProposals"] = String(msg[r.upperBound...].prefix(while: { $0 != "]" }))
            }
        case .peerIDMismatch:
            if let r = msg.range(of: "Peer ID '") { details["peerID"] = String(msg[r.upperBound...].prefix(while: { $0 != "'" })) }
        case .ikeEstablished:
            if let conn { isakmpEstablished.insert(conn) }
            if let r = msg.range(of: "{") { details["algorithms"] = String(msg[r.upperBound...].prefix(while: { $0 != "}" })) }
        case .childEstablished:
            if let r = msg.range(of: "xfrm=") { details["xfrm"] = String(msg[r.upperBound...].prefix(while: { $0 != " " && $0 != "}" })) }
            details["natt"] = lower.contains("espinudp") || lower.contains("natd=") && !lower.contains("natd=none") ? "yes" : "no"
            if let r = msg.range(of: "IPsec SA established ") { details["mode"] = String(msg[r.upperBound...].prefix(while: { $0 != " " })) }
            if lower.contains("transport mode") { details["mode"] = "transport" }
            if lower.contains("tunnel mode") || lower.contains("ipsec tunnel") { details["mode"] = "tunnel" }
        case .ikev1NoConnectionForQuickMode:
            if let r = msg.range(of: "no connection is known for ") { details["proposed"] = String(msg[r.upperBound...]) }
        case .noSuitableConnection:
            details["ikeVersion"] = lower.contains("main mode") || lower.contains("aggressive mode") ? "IKEv1" : "IKEv2"
        case .initiating:
            details["ikeVersion"] = lower.contains("ikev1") || lower.contains("main mode") || lower.contains("aggressive") ? "IKEv1" : "IKEv2"
        default:
            break
        }
        if lower.contains("ikev1") || lower.contains("main mode") || lower.contains("quick mode") || state?.hasPrefix("STATE_MAIN") == true
            || state?.hasPrefix("STATE_QUICK") == true || state?.hasPrefix("STATE_AGGR") == true
        {
            details["ikeVersion"] = details["ikeVersion"] ?? "IKEv1"
        }
        let text = Redactor.redact(raw)
        return IKEEvent(
            kind: finalKind, connection: conn, serial: serial, state: state, details: details,
            source: SourceLine(file: file, line: line, text: text))
    }

    /// Token rules, most specific first.
    func kind(of m: String) -> IKEEventKind? {
        if m.contains("asynchronous network error report") { return .icmpError }
        if m.contains("ignoring ikev1 packet") || m.contains("drop all ikev1") { return .ikev1Dropped }
        if m.contains("netlink response for add sa") || m.contains("netlink response for xfrm_msg_newsa")
            || m.contains("netlink response for xfrm_msg_updsa")
            || (m.contains("xfrm_msg_newpolicy") && m.contains("errno"))
        {
            return .kernelSAInstallFailed
        }
        if m.contains("perhaps peer likes no proposal") { return .quickModeNoProposalTimeout }
        if m.contains("possible authentication failure") { return .authTimeout }
        if m.contains("timeout exceeded after") || m.contains("max number of retransmissions") {
            if m.contains("established_ike_sa") || m.contains("main_i4") || m.contains("main_r3") || m.contains("established ike sa") {
                return .dpdAction
            }
            return .timeout
        }
        if m.contains("retransmission; will wait") { return .retransmission }
        if m.contains("dpd action") || m.contains("liveness action") || m.contains("dpd: no response") { return .dpdAction }
        if m.contains("invalid_ke_payload") { return .invalidKE }
        if m.contains("computed hash does not match") || m.contains("received auth != computed auth")
            || m.contains("auth mismatch")
        {
            return .pskHashMismatch
        }
        if m.contains("hash payload does not match") || m.contains("mismatch of preshared secrets")
            || (m.contains("invalid_hash_information") && !m.contains("ignoring"))
            || (m.contains("hash(") && m.contains("does not match computed value"))
        {
            return .ikev1HashMismatch
        }
        if m.contains("peer attempted") && m.contains("but we want") { return .authMethodMismatch }
        if m.contains("no psk found for") || m.contains("unable to locate my private key")
            || m.contains("can't find the certificate or private key")
        {
            return .noPSKFound
        }
        if m.contains("peer id '") && m.contains("mismatched") { return .peerIDMismatch }
        if m.contains("x509: authentication failed") || m.contains("nss: error") || m.contains("certificate payload rejected")
            || m.contains("x509: certificate rejected") || m.contains("cert payload bogus")
        {
            return .certificateError
        }
        if m.contains("authentication_failed") && !m.contains("responding to") && !m.contains("sending") { return .authFailedReceived }
        if m.contains("ignoring informational payload") || m.contains("informational payload")
            && (m.contains("ignoring unsecured") || m.contains("ignoring secured"))
        {
            return .ikev1NotifyReceived
        }
        if m.contains("cannot respond to ipsec sa request because no connection is known") { return .ikev1NoConnectionForQuickMode }
        if m.contains("no suitable connection") || m.contains("no connection has been authorized") { return .noSuitableConnection }
        if m.contains("no local proposal matches remote proposals") {
            return m.contains(":ike:") ? .ikeNoProposalLocal : .childNoProposalLocal
        }
        if m.contains("no acceptable oakley transform") { return .ikeNoProposalLocal }
        if m.contains("matching remote esp/ah proposals failed") || m.contains("no acceptable proposal in ipsec sa")
            || (m.contains("create_child_sa request failed") && m.contains("no_proposal_chosen"))
        {
            return .childNoProposalLocal
        }
        if m.contains("no_proposal_chosen") {
            if m.contains("responding to") || m.contains("sending") { return nil }
            if m.contains("ike_sa_init") { return .ikeNoProposalReceived }
            if m.contains("ike_auth") || m.contains("child sa") || m.contains("create_child_sa") { return .childNoProposalReceived }
            return nil
        }
        if m.contains("compatible traffic selectors") || m.contains("responding with ts_unacceptable") { return .tsNoMatchLocal }
        if m.contains("ts_unacceptable") && !m.contains("responding to") { return .tsUnacceptableReceived }
        if m.contains("established child sa") || m.contains("ipsec sa established") { return .childEstablished }
        if m.contains("established ike sa") || m.contains("isakmp sa established") || m.contains("ike sa established {")
            || m.contains("ike sa established;")
        {
            return .ikeEstablished
        }
        if m.contains("initiating ikev2") || m.contains("initiating ikev1") || m.contains("initiating main mode")
            || m.contains("initiating aggressive mode")
        {
            return .initiating
        }
        if m.contains("encountered fatal error in state") { return .fatal }
        return nil
    }

    /// `"westnet-eastnet"[1] 192.0.2.9 #3: ...` -> ("westnet-eastnet", 3). Also `ERROR: "c" #2:`.
    static func connectionAndSerial(_ msg: Substring) -> (String?, Int?) {
        var conn: String?
        var serial: Int?
        if let q1 = msg.firstIndex(of: "\""), msg[..<q1].count <= 8 {
            let rest = msg[msg.index(after: q1)...]
            if let q2 = rest.firstIndex(of: "\"") {
                var name = String(rest[..<q2])
                // Instances and subnet alternatives: "conn/1x2" and "conn"[1] keep the base name.
                if let slash = name.firstIndex(of: "/") { name = String(name[..<slash]) }
                conn = name
            }
        }
        if let hash = msg.firstIndex(of: "#") {
            let digits = msg[msg.index(after: hash)...].prefix(while: \.isNumber)
            if !digits.isEmpty, msg[hash...].count > digits.count + 1 { serial = Int(digits) }
        }
        return (conn, serial)
    }

    /// The state name in `STATE_MAIN_I3: ...`, `IKE_AUTH_I: ...`.
    static func stateName(_ msg: Substring) -> String? {
        for token in msg.split(separator: " ").prefix(6) {
            let t = token.hasSuffix(":") ? token.dropLast() : token
            if t.hasPrefix("STATE_") || t == "IKE_SA_INIT_I" || t == "IKE_AUTH_I" || t == "ESTABLISHED_IKE_SA"
                || t == "ESTABLISHED_CHILD_SA" || t == "IKE_SA_INIT_R" || t == "IKE_AUTH_R"
            {
                return String(t)
            }
        }
        if let r = msg.range(of: "in state ") {
            return String(msg[r.upperBound...].prefix(while: { $0 != " " && $0 != "," }))
        }
        return nil
    }

    static let notifyNames = [
        "NO_PROPOSAL_CHOSEN", "INVALID_ID_INFORMATION", "INVALID_HASH_INFORMATION", "AUTHENTICATION_FAILED",
        "TS_UNACCEPTABLE", "INVALID_KE_PAYLOAD", "INVALID_MAJOR_VERSION", "PAYLOAD_MALFORMED",
    ]

    static func notifyName(in msg: Substring) -> String? { notifyNames.first { msg.contains($0) } }

    static func number(after token: String, in s: String) -> String? {
        guard let r = s.range(of: token) else { return nil }
        let d = s[r.upperBound...].prefix(while: \.isNumber)
        return d.isEmpty ? nil : String(d)
    }

    static func word(after token: String, in s: String) -> String? {
        guard let r = s.range(of: token) else { return nil }
        return String(s[r.upperBound...].prefix(while: { $0 != " " }))
    }
}

extension Substring {
    func dropLast(while pred: (Character) -> Bool) -> Substring {
        var s = self
        while let l = s.last, pred(l) { s = s.dropLast() }
        return s
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
